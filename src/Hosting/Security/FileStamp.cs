using System.Security.Cryptography;

namespace P2PRegistry.Hosting.Security;

/// <summary>
/// A hash of files' bytes, how the reloaders see a change: timestamps do not survive a Kubernetes secret volume's symlink
/// swap reliably.
/// </summary>
internal static class FileStamp
{
    /// <summary>The hash of the files' bytes in order, or null when one is missing or unreadable (mid-rotation: check again later).</summary>
    public static byte[]? Of(params ReadOnlySpan<string> paths)
    {
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var path in paths)
            {
                hash.AppendData(File.ReadAllBytes(path));
            }

            return hash.GetHashAndReset();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

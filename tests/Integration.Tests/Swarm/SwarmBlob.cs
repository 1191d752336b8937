using System.Security.Cryptography;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Integration.Tests.Swarm;

/// <summary>A file of seeded random bytes and its digest.</summary>
internal sealed record SwarmBlob(string Path, Digest Digest, long Length)
{
    public static SwarmBlob Create(string path, int mebibytes, int seed)
    {
        var random = new Random(seed);
        var buffer = new byte[1024 * 1024];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var file = File.Create(path))
        {
            for (var i = 0; i < mebibytes; i++)
            {
                random.NextBytes(buffer);
                sha.AppendData(buffer);
                file.Write(buffer);
            }
        }

        return new SwarmBlob(path, Digest.Parse("sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset())), (long)mebibytes * 1024 * 1024);
    }

    public static Digest DigestOf(string path)
    {
        using var file = File.OpenRead(path);
        return Digest.Parse("sha256:" + Convert.ToHexStringLower(SHA256.HashData(file)));
    }
}

using System.Text.Json;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Manifests;

/// <summary>
/// A DELETE of a manifest reference on this origin's storage, the same for a client's DELETE and one a cluster member
/// replicates: by digest the revision goes with its tags and its entry in its subject's referrers; by tag only the tag.
/// </summary>
internal static class ManifestDeletion
{
    /// <summary>True when something was deleted.</summary>
    public static bool Delete(BlobStore blobs, RepositoryStore repositories, long maxManifestBytes, string repository, string reference)
    {
        if (!Digest.TryParse(reference, out var digest))
        {
            return repositories.DeleteTag(repository, reference);
        }

        if (!repositories.TryGetManifest(repository, digest, out _))
        {
            return false;
        }

        UnlinkReferrer(blobs, repositories, maxManifestBytes, repository, digest);
        return repositories.DeleteManifest(repository, digest);
    }

    /// <summary>Before a manifest revision is deleted: drop it from its subject's referrers (its bytes name the subject).</summary>
    private static void UnlinkReferrer(BlobStore blobs, RepositoryStore repositories, long maxManifestBytes, string name, Digest digest)
    {
        if (!blobs.TryGetLength(digest, out var length) || length > maxManifestBytes)
        {
            return;
        }

        try
        {
            var references = ManifestReferences.Read(File.ReadAllBytes(blobs.DataPath(digest)));
            if (references.Subject is { } subject)
            {
                repositories.UnlinkReferrer(name, subject, digest);
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException or FileNotFoundException or DirectoryNotFoundException)
        {
            // Not a manifest with a subject (or gone): nothing was linked.
        }
    }
}

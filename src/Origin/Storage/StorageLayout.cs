using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Storage;

/// <summary>
/// Where everything lives under the storage root:
/// <code>
/// blobs/sha256/ab/abcd…/data          the blob, only ever created by renaming a verified, fsynced file
/// blobs/sha256/ab/abcd…/metainfo      its bencoded BEP 3 info dict (written before data)
/// repositories/&lt;name&gt;/_layers/sha256/&lt;hex&gt;/link                 blob is part of the repository
/// repositories/&lt;name&gt;/_manifests/revisions/sha256/&lt;hex&gt;/link     manifest digest + media type
/// repositories/&lt;name&gt;/_manifests/tags/&lt;tag&gt;/current/link         tag → manifest digest
/// repositories/&lt;name&gt;/_manifests/referrers/sha256/&lt;subject hex&gt;/sha256/&lt;hex&gt;/link   referrer descriptor (JSON)
/// uploads/&lt;id&gt;/data                  an upload in progress (wiped at start)
/// quarantine/&lt;hex&gt;.&lt;utc time&gt;       a blob's data found corrupt while seeding, moved out of blobs/ (kept for inspection)
/// </code>
/// Everything is on one filesystem, so the final renames are atomic.
/// </summary>
internal sealed class StorageLayout
{
    public StorageLayout(string root)
    {
        Root = Path.GetFullPath(root);
        Blobs = Path.Combine(Root, "blobs", Digest.Sha256Algorithm);
        Repositories = Path.Combine(Root, "repositories");
        Uploads = Path.Combine(Root, "uploads");
        Quarantine = Path.Combine(Root, "quarantine");
    }

    public string Root { get; }

    public string Blobs { get; }

    public string Repositories { get; }

    public string Uploads { get; }

    public string Quarantine { get; }

    public string BlobDirectory(Digest digest) => Path.Combine(Blobs, digest.Hex[..2], digest.Hex);

    public string BlobData(Digest digest) => Path.Combine(BlobDirectory(digest), "data");

    public string BlobMetaInfo(Digest digest) => Path.Combine(BlobDirectory(digest), "metainfo");

    /// <summary>The repository's folder; the name was validated by the grammar, which admits no dot segments.</summary>
    public string Repository(string name) => Path.Combine(Repositories, name);

    public string LayerLink(string name, Digest digest) =>
        Path.Combine(Repository(name), "_layers", Digest.Sha256Algorithm, digest.Hex, "link");

    public string ManifestRevisionLink(string name, Digest digest) =>
        Path.Combine(Repository(name), "_manifests", "revisions", Digest.Sha256Algorithm, digest.Hex, "link");

    public string TagsDirectory(string name) => Path.Combine(Repository(name), "_manifests", "tags");

    public string TagLink(string name, string tag) => Path.Combine(TagsDirectory(name), tag, "current", "link");

    /// <summary>The referrers of one subject: a folder per referrer digest (hex), each with its descriptor in <c>link</c>.</summary>
    public string ReferrersDirectory(string name, Digest subject) =>
        Path.Combine(Repository(name), "_manifests", "referrers", Digest.Sha256Algorithm, subject.Hex, Digest.Sha256Algorithm);

    public string ReferrerLink(string name, Digest subject, Digest referrer) =>
        Path.Combine(ReferrersDirectory(name, subject), referrer.Hex, "link");

    public string UploadDirectory(string id) => Path.Combine(Uploads, id);

    /// <summary>Where a corrupt blob's data goes, stamped with the time it was found (the same blob may rot again).</summary>
    public string QuarantinedBlob(Digest digest, DateTimeOffset at) =>
        Path.Combine(Quarantine, $"{digest.Hex}.{at.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}");
}

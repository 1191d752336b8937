using P2PRegistry.Harness.Systems;

namespace P2PRegistry.Harness.Images;

/// <summary>One blob of a built image (a layer or the config): its file, size, digest and media type.</summary>
internal sealed record ImageBlob(string Path, long Length, string Sha256Hex, string MediaType)
{
    public string Digest => "sha256:" + Sha256Hex;

    /// <summary>As the harness's <see cref="Blob"/>, for <see cref="BlobPush"/>.</summary>
    public Blob AsBlob() => new(Path, Length, Sha256Hex);
}

namespace P2PRegistry.Testing.Images;

/// <summary>A single-platform image in an OCI layout, as built by <see cref="OciImageBuilder"/>.</summary>
public sealed record OciImage(
    string LayoutPath,
    string Tag,
    string ManifestDigest,
    long ManifestSize,
    string ConfigDigest,
    IReadOnlyList<OciDescriptor> Layers,
    string Architecture,
    string RandomFilePath,
    string RandomFileSha256,
    long RandomFileSize)
{
    /// <summary>The skopeo reference, <c>oci:&lt;layout&gt;:&lt;tag&gt;</c>.</summary>
    public string Reference => $"oci:{LayoutPath}:{Tag}";

    public IReadOnlyList<string> LayerDigests => Layers.Select(l => l.Digest).ToList();

    /// <summary>Every blob the manifest references: config first, then the layers.</summary>
    public IReadOnlyList<string> BlobDigests => [ConfigDigest, .. LayerDigests];
}

/// <summary>An OCI content descriptor (the fields tests compare).</summary>
public sealed record OciDescriptor(string MediaType, string Digest, long Size);

/// <summary>A multi-platform image index in an OCI layout, built by <see cref="OciImageBuilder.BuildIndexAsync"/>.</summary>
public sealed record OciImageIndex(string LayoutPath, string Tag, string Digest, long Size, IReadOnlyList<OciImage> Images)
{
    public string Reference => $"oci:{LayoutPath}:{Tag}";
}

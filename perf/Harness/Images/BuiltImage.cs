namespace P2PRegistry.Harness.Images;

/// <summary>
/// A single-platform OCI image made by <see cref="ImageBuilder"/>: gzip layers, a config, and the manifest's exact
/// bytes (pushed as they are, so its digest is <see cref="ManifestDigest"/>).
/// </summary>
internal sealed record BuiltImage(IReadOnlyList<ImageLayer> Layers, ImageBlob Config, string ManifestPath, string ManifestDigest)
{
    public const string ManifestMediaType = "application/vnd.oci.image.manifest.v1+json";

    public long ManifestLength => new FileInfo(ManifestPath).Length;

    /// <summary>Every byte a node fetches to have the image: the layers, the config and the manifest.</summary>
    public long TotalBytes => Layers.Sum(l => l.Blob.Length) + Config.Length + ManifestLength;

    /// <summary>
    /// The OCI chain ID of the top layer (ChainID(L₀) = DiffID(L₀), ChainID(Lₙ) = sha256(ChainID(Lₙ₋₁) + " " + DiffID(Lₙ))):
    /// the key of the snapshot containerd commits when it has unpacked the whole image.
    /// </summary>
    public string ChainId
    {
        get
        {
            var chain = Layers[0].DiffId;
            foreach (var layer in Layers.Skip(1))
            {
                chain = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(chain + " " + layer.DiffId)));
            }

            return chain;
        }
    }

    /// <summary>The config and the layers: what a registry must hold before the manifest can be pushed.</summary>
    public IEnumerable<ImageBlob> Blobs => Layers.Select(l => l.Blob).Prepend(Config);
}

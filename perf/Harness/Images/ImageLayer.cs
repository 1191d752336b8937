namespace P2PRegistry.Harness.Images;

/// <summary>
/// One gzip layer: the compressed blob the manifest names, the digest of the uncompressed tar (the config's
/// <c>diff_id</c>, which containerd checks when it unpacks) and how many random bytes the layer's one file holds.
/// </summary>
internal sealed record ImageLayer(ImageBlob Blob, string DiffId, long TarBytes, long ContentBytes);

namespace P2PRegistry.Harness.Reporting;

/// <summary>The image the <c>image</c> workload pulls: its layers (random content and gzip sizes) and its manifest digest.</summary>
internal sealed record ImageSummary(string Reference, string ManifestDigest, IReadOnlyList<long> LayerContentBytes, IReadOnlyList<long> LayerBlobBytes, long TotalBytes);

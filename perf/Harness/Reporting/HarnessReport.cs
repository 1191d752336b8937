namespace P2PRegistry.Harness.Reporting;

/// <summary>Everything one invocation measured; serialised as report.json and rendered as report.md and SVGs.</summary>
internal sealed record HarnessReport
{
    public required DateTimeOffset StartedAt { get; init; }

    public required string Machine { get; init; }

    public required string Testbed { get; init; }

    public required long BlobBytes { get; init; }

    public required int RateMbit { get; init; }

    public required int PieceLength { get; init; }

    public required double PayloadBytesPerSecond { get; init; }

    public required string Calibration { get; init; }

    public required IReadOnlyList<RunReport> Runs { get; init; }

    /// <summary><c>blob</c> or <c>image</c>.</summary>
    public string Workload { get; init; } = "blob";

    /// <summary>The image workload's image; null for the blob workload. <see cref="BlobBytes"/> is then its total size.</summary>
    public ImageSummary? Image { get; init; }
}

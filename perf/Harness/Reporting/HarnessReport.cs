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
}

/// <summary>All systems for one client count N.</summary>
internal sealed record RunReport(int Clients, double LowerBoundSeconds, IReadOnlyList<SystemReport> Systems);

internal sealed record ClientReport(string Host, double? Seconds, double? CpuSeconds, bool? Identical, string? Error);

internal sealed record SystemReport
{
    public required string Name { get; init; }

    public required string Description { get; init; }

    /// <summary>False when the system could not run here; <see cref="Reason"/> says why and there are no figures.</summary>
    public required bool Available { get; init; }

    public string? Reason { get; init; }

    /// <summary>Set when the system was available but the run failed (setup, a client, a timeout).</summary>
    public string? Error { get; init; }

    public IReadOnlyList<ClientReport> Clients { get; init; } = [];

    public int Completed => Clients.Count(c => c.Seconds is not null && c.Identical == true);

    public double? MedianSeconds { get; init; }

    public double? SlowestSeconds { get; init; }

    public double? MedianToBound { get; init; }

    public double? SlowestToBound { get; init; }

    /// <summary>Bytes the seed host's link carried out during the fetch (payload + headers); null without link counters.</summary>
    public long? OriginLinkBytes { get; init; }

    /// <summary>Payload bytes the origin-side program says it sent.</summary>
    public long? OriginPayloadBytes { get; init; }

    /// <summary>Origin egress as a multiple of the blob size: link bytes when counted, else payload bytes.</summary>
    public double? OriginEgressTimesF { get; init; }

    public double? ServerCpuSeconds { get; init; }

    public double? ClientCpuSeconds { get; init; }
}

namespace P2PRegistry.Harness.Reporting;

/// <summary>One system for one client count: its figures, or why it did not run or failed.</summary>
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

    /// <summary>Nearest-rank p50 of the clients' times (from their wave's start); null unless every client finished.</summary>
    public double? P50Seconds { get; init; }

    /// <summary>Nearest-rank p99 (with fewer than 100 clients: the slowest); null unless every client finished.</summary>
    public double? P99Seconds { get; init; }

    /// <summary>With a rolling update: each wave's figures, first wave first; null when all clients started together.</summary>
    public IReadOnlyList<WaveReport>? Waves { get; init; }

    public double? MedianToBound { get; init; }

    public double? SlowestToBound { get; init; }

    /// <summary>Bytes the seed host's link carried out during the fetch (payload + headers); null without link counters.</summary>
    public long? OriginLinkBytes { get; init; }

    /// <summary>Payload bytes the origin-side program says it sent.</summary>
    public long? OriginPayloadBytes { get; init; }

    /// <summary>Origin egress as a multiple of the blob size: link bytes when counted, else payload bytes.</summary>
    public double? OriginEgressTimesF { get; init; }

    /// <summary>With zones: per zone, what arrived in it from the other zone during the fetch (link counters).</summary>
    public IReadOnlyList<Measuring.ZoneCrossing>? CrossZone { get; init; }

    public double? ServerCpuSeconds { get; init; }

    public double? ClientCpuSeconds { get; init; }
}

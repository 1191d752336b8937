namespace P2PRegistry.Harness.Lab;

/// <summary>
/// The hosts of one run and their links: the seed host (origin and tracker) and the client hosts, each with
/// its own address. Namespaces with shaped links, or loopback with the programs' own rate limits.
/// </summary>
internal interface ITestbed : IAsyncDisposable
{
    RunId Run { get; }

    LabHost Seed { get; }

    /// <summary>All client hosts; a run with fewer clients uses the first ones.</summary>
    IReadOnlyList<LabHost> Clients { get; }

    /// <summary>True when the links themselves are shaped (tc tbf); false when only programs limit themselves.</summary>
    bool LinksShaped { get; }

    /// <summary>Per-process rate limit in bytes/s for programs that have one (loopback mode), else null.</summary>
    long? ProgramRateLimit { get; }

    string Description { get; }

    /// <summary>A port for a server on <paramref name="host"/>; hosts in namespaces may all use the same one.</summary>
    int Port(LabHost host, int preferred);

    /// <summary>The zones' names (a, b) when the clients are split into zones; empty for one flat network.</summary>
    IReadOnlyList<string> Zones { get; }

    /// <summary>The zone a host sits in, or null without zones.</summary>
    string? ZoneOf(LabHost host);

    /// <summary>
    /// Per zone, the bytes (Ethernet frames: payload and headers) that have arrived in it over the link from the other
    /// zone so far, a link counter; null without zones.
    /// </summary>
    Task<IReadOnlyDictionary<string, long>?> ReadZoneIngressBytesAsync(CancellationToken cancellationToken);

    /// <summary>Bytes the seed host has sent over its link so far (link counter), or null when there is no link to count.</summary>
    Task<long?> ReadSeedEgressBytesAsync(CancellationToken cancellationToken);
}

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

    /// <summary>Bytes the seed host has sent over its link so far (link counter), or null when there is no link to count.</summary>
    Task<long?> ReadSeedEgressBytesAsync(CancellationToken cancellationToken);
}

using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Systems;

/// <summary>What a system gets for one run: the hosts, the blob, a folder of its own and the process group.</summary>
internal sealed class SystemContext
{
    public required ITestbed Testbed { get; init; }

    /// <summary>The clients of this run (the first N of the testbed's).</summary>
    public required IReadOnlyList<LabHost> Clients { get; init; }

    public required Blob Blob { get; init; }

    public required string WorkDirectory { get; init; }

    public required ProcessGroup Processes { get; init; }

    /// <summary>Piece length P2PRegistry would use for this blob (PieceLength.For), so swarms compare like for like.</summary>
    public required int PieceLength { get; init; }

    public required TimeSpan Timeout { get; init; }

    public required TextWriter Log { get; init; }

    public LabHost Seed => Testbed.Seed;
}

namespace P2PRegistry.Harness.Systems;

/// <summary>
/// One way of getting a blob to N hosts (a central registry, a BitTorrent swarm, P2PRegistry). The runner calls,
/// in order and on the same testbed: <see cref="CheckAvailableAsync"/>, <see cref="SetupAsync"/> (servers on the seed
/// host, blob published, ready to serve), <see cref="FetchAtOnceAsync"/> (all clients start together behind a
/// barrier; returns when every one finished or failed), <see cref="CollectAsync"/> (server-side figures), and
/// always <see cref="TeardownAsync"/> (every process it started stopped by PID).
/// </summary>
internal interface ISystemUnderTest
{
    string Name { get; }

    /// <summary>One line for the report: what runs where.</summary>
    string Description { get; }

    /// <summary>Whether this system can run here; when not, the reason goes into the report instead of figures.</summary>
    Task<Availability> CheckAvailableAsync(CancellationToken cancellationToken);

    Task SetupAsync(SystemContext context, CancellationToken cancellationToken);

    Task<IReadOnlyList<ClientResult>> FetchAtOnceAsync(SystemContext context, CancellationToken cancellationToken);

    Task<ServerFigures> CollectAsync(SystemContext context, CancellationToken cancellationToken);

    Task TeardownAsync(SystemContext context);
}

namespace P2PRegistry.Origin.Seeding;

/// <summary>The origin's BitTorrent peer port (section <c>Origin:Peer</c>), from which it seeds every blob it holds.</summary>
public sealed class PeerOptions
{
    public const int DefaultPort = 6881;

    /// <summary>TCP port of the peer protocol; 0 = any free port (tests), the bound one is what peers are told.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>Literal IP address the peer port binds to.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>
    /// The address peers are told to dial (the <c>X-P2P-Origin-Peer</c> header); defaults to <see cref="Address"/>,
    /// and must be set when that is a wildcard (0.0.0.0, ::), which nobody can dial.
    /// </summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>
    /// Super-seed to our own agents (sets the engine's <c>SuperSeed</c>, whatever <c>Swarm:SuperSeed</c> says): each agent is shown a few pieces
    /// at a time, the least copied first, so the origin's uplink carries about one copy of a blob however many
    /// agents fetch it at once, and the agents trade the rest. Standard BitTorrent clients see every piece.
    /// </summary>
    public bool SuperSeed { get; set; } = true;

    /// <summary>A blob's swarm, opened when a peer asked for it, is closed after this long without an upload.</summary>
    public TimeSpan IdleSeedTimeout { get; set; } = TimeSpan.FromMinutes(10);
}

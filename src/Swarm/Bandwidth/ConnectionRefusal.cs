namespace P2PRegistry.Swarm.Bandwidth;

/// <summary>Why a peer connection was not taken (the <c>reason</c> tag of <c>p2pregistry.swarm.connections_refused</c>).</summary>
internal enum ConnectionRefusal
{
    /// <summary>Not refused.</summary>
    None,

    /// <summary><see cref="SwarmOptions.MaxPendingConnections"/>: connections still in their handshake, in total.</summary>
    PendingTotal,

    /// <summary><see cref="SwarmOptions.MaxPendingConnectionsPerAddress"/>: connections still in their handshake from one address.</summary>
    PendingPerAddress,

    /// <summary><see cref="SwarmOptions.MaxConnections"/>.</summary>
    Total,

    /// <summary><see cref="SwarmOptions.MaxConnectionsPerSwarm"/>.</summary>
    PerSwarm,

    /// <summary><see cref="SwarmOptions.MaxConnectionsPerAddress"/>: connections with one address, across all swarms.</summary>
    PerAddress,

    /// <summary>An inbound peer that sent no handshake within <see cref="SwarmOptions.InboundHandshakeTimeout"/> (not a limit of <see cref="ConnectionLimiter"/>).</summary>
    HandshakeTimeout,

    /// <summary>The peer port speaks TLS (<c>Swarm:Tls</c>) and the connection's TLS handshake failed.</summary>
    Tls,
}

namespace P2PRegistry.Testing.Peers;

/// <summary>What each connection of a <see cref="SocketFlood"/> sends.</summary>
public enum FloodMode
{
    /// <summary>Nothing at all (a connection that never handshakes).</summary>
    Silent,

    /// <summary>A handshake, then only keep-alives (a peer that holds a slot and does nothing).</summary>
    HandshakeThenKeepAlives,
}

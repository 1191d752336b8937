namespace P2PRegistry.Swarm.Sessions;

/// <summary>A message waiting for the session's send loop, the only writer of its pipe.</summary>
internal readonly record struct Outbound(OutboundKind Kind, int Index = 0, int Begin = 0, int Length = 0);

internal enum OutboundKind
{
    KeepAlive,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have,
    Bitfield,
    ExtensionHandshake,
    Request,
    Cancel,

    /// <summary>A block the peer asked for: read from the store straight into the pipe when its turn comes.</summary>
    Piece,

    /// <summary>Writes nothing: wakes an idle send loop so it writes the pieces a super-seeding seed just revealed.</summary>
    Wake,
}

namespace P2PRegistry.Swarm.Sessions;

/// <summary>A message waiting for the session's send loop, the only writer of its pipe.</summary>
/// <param name="Payload">The bitfield's wire bytes (a snapshot taken when it was queued).</param>
internal readonly record struct Outbound(OutboundKind Kind, int Index = 0, int Begin = 0, int Length = 0, byte[]? Payload = null);

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

    /// <summary>Writes nothing: wakes an idle send loop (a block or a revealed piece is waiting).</summary>
    Wake,
}

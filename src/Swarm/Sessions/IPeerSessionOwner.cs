using System.Buffers;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Sessions;

/// <summary>
/// What a <see cref="PeerSession"/> reports to the swarm that owns everything known about its peer (choking,
/// interest, the peer's pieces, requests either way), in the shape of Kestrel's <c>Http2Stream</c> reporting to
/// <c>IHttp2StreamLifetimeHandler</c>. The session runs the socket loops and the codec and checks what the codec
/// alone can check (indexes, ranges); the owner decides and answers by queueing messages on the session
/// (<see cref="PeerSession.Send"/>). Every call may come from the session's receive loop, send loop or timer.
/// </summary>
internal interface IPeerSessionOwner
{
    /// <summary>Past the handshake: false when the session is refused (already connected, blacklisted, stopped).</summary>
    bool TryAttach(PeerSession session);

    /// <summary>The session ended (after a successful <see cref="TryAttach"/>).</summary>
    void Detach(PeerSession session);

    void OnChoke(PeerSession session);

    void OnUnchoke(PeerSession session);

    void OnInterested(PeerSession session);

    void OnNotInterested(PeerSession session);

    /// <summary>A <c>have</c> for a piece index inside the blob.</summary>
    void OnHave(PeerSession session, int piece);

    /// <summary>A <c>bitfield</c>; throws <see cref="Core.Wire.PeerProtocolException"/> for a malformed one, before anything changes.</summary>
    void OnBitfield(PeerSession session, in ReadOnlySequence<byte> bits);

    /// <summary>A <c>request</c> inside the blob's bounds.</summary>
    void OnRequest(PeerSession session, BlockRequest request);

    void OnCancel(PeerSession session, BlockRequest request);

    /// <summary>A <c>piece</c> message inside the blob's bounds; returns the bytes accepted (0: not wanted).</summary>
    int OnBlock(PeerSession session, int piece, int begin, in ReadOnlySequence<byte> block);

    /// <summary>The peer said where it listens (BEP 10 <c>p</c>).</summary>
    void OnListenPortKnown(PeerSession session);

    /// <summary>The peer said which zone it is in (extension handshake <c>p2pregistry_zone</c>, see <see cref="PeerSession.RemoteZone"/>).</summary>
    void OnZoneKnown(PeerSession session);

    /// <summary>The session's timer (a few times a second): the time since the previous tick.</summary>
    void OnTick(PeerSession session, TimeSpan elapsed);

    /// <summary>
    /// The send loop: <paramref name="sent"/> (if any) went out in full; the next block to send the peer, or false when
    /// none is queued (or the peer is choked). One call per block.
    /// </summary>
    bool TryTakeUpload(PeerSession session, BlockRequest? sent, out BlockRequest next);

    /// <summary>Reads a block the peer asked for into <paramref name="destination"/>; false when the store is short.</summary>
    bool ReadBlock(BlockRequest block, Span<byte> destination);
}

namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>
/// How many of the front's pieces a super-seeded peer leaves to faster peers (the <c>skip</c> of
/// <see cref="RevealOrder.Pick"/>): the front moves at the rate all peers settle pieces (by Little's law, pieces shown
/// at once over each one's time to settle, summed), and this peer settles later than the fastest by the difference of
/// their times. Add every peer (itself included), then ask.
/// </summary>
/// <remarks>
/// A peer that takes longer than the others to fetch what it is shown (its flow from the seed gets a small share of
/// a busy link: measured at a steady 0.25 MB/s for 4 of 12 Agents against 1-3 MB/s for the rest) is shown pieces
/// further back, about as far as the front moves while it catches up: a piece in the front held only by a slow peer
/// would hold up every peer's in-order prefix until it arrived. Measured per peer, from reveal to settle
/// (<see cref="SettleTimer"/>), when the seeder has a clock.
/// </remarks>
internal struct SlowPeerOffset
{
    private bool _timed;
    private double _fastest;
    private double _rate;

    /// <summary>
    /// A peer settles what it is shown in <paramref name="latency"/> seconds (0: not timed yet, it does not count),
    /// <paramref name="shownAtOnce"/> pieces at a time.
    /// </summary>
    public void Add(double latency, int shownAtOnce)
    {
        if (latency > 0)
        {
            _fastest = _timed ? Math.Min(_fastest, latency) : latency;
            _rate += shownAtOnce / latency;
            _timed = true;
        }
    }

    /// <summary>Pieces to skip, at most <paramref name="pieceCount"/>, for a peer that settles in <paramref name="latency"/> seconds.</summary>
    public readonly int PiecesBehind(double latency, int pieceCount) =>
        latency <= 0 || !_timed ? 0 : (int)Math.Min(_rate * (latency - _fastest), pieceCount);
}

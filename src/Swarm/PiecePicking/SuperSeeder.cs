using P2PRegistry.Core.Pieces;

namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>
/// Which pieces a complete seed (the origin) shows to each of our own peers (BEP 16's super-seeding idea,
/// our variant). Instead of the full bitfield a peer sees a few pieces; each time one of them was sent to it,
/// or it got that piece elsewhere (its <c>have</c>), one more is revealed. The piece revealed is the one with
/// the fewest copies handed out (sent, or revealed and not yet settled), then the one fewest peers hold, then the
/// first in the blob. So until every piece went out once, each copy the seed's uplink carries is a distinct piece,
/// and the peers must trade to complete: the seed sends about one copy of the blob instead of one per peer.
/// </summary>
/// <remarks>
/// Lowest index among equals, not random: the blob enters the swarm front to back, a window of a few pieces per
/// peer wide, so every peer's verified prefix (what a streaming reader can pass on) follows the download closely
/// instead of jumping at the end, and little is left to stream once the last piece arrives.
/// </remarks>
/// <remarks>
/// A peer that takes longer than the others to fetch what it is shown (its flow from the seed gets a small share of
/// a busy link: measured at a steady 0.25 MB/s for 4 of 12 Agents against 1-3 MB/s for the rest) is shown pieces
/// further back, about as far as the front moves while it catches up: a piece in the front held only by a slow peer
/// would hold up every peer's in-order prefix until it arrived. Measured per peer, from reveal to settle, when the
/// seeder has a clock.
/// </remarks>
/// <remarks>
/// With a forward window (BEP 16's rule, widened to a window): a piece sent in full to a peer stays on that peer's
/// account until another peer announces it, that is until the peer passed it on (or the forward wait ran out). A peer
/// whose flow from the seed is fast but whose uplink cannot pass on what it gets (each piece it alone holds must go
/// to every other peer over its uplink) is shown no more until it catches up: measured with 12 Agents, runs where one
/// Agent got 140-185 of the 1024 pieces from the seed (an even share is 85) ended with that Agent's uplink the only
/// busy one for 3-8 s while the others waited for what only it held.
/// </remarks>
/// <remarks>
/// Pure state, no I/O and no locking: the swarm calls it under its lock. Peers are small integer ids.
/// The revealed set only grows: a seed cannot take back a piece it said it has.
/// </remarks>
internal sealed class SuperSeeder
{
    private readonly int _pieceCount;
    private readonly int _revealAtOnce;
    private readonly int _revealBudget;
    private readonly Func<int, int> _pieceSize;
    private readonly TimeProvider? _time;
    private readonly int[] _copies;
    private readonly int[] _availability;
    private readonly long[] _shownAt;
    private readonly int[] _awaitingForward;
    private readonly int _forwardWindow;
    private readonly TimeSpan _forwardWait;
    private readonly Dictionary<int, PeerState> _peers = [];
    private readonly List<int> _passedOnScratch = [];

    /// <param name="pieceCount">Pieces of the blob.</param>
    /// <param name="revealAtOnce">Pieces revealed to a peer and not yet settled, at most (its pipeline to this seed).</param>
    /// <param name="pieceSize">The size of a piece (the last one is shorter).</param>
    /// <param name="revealBudget">
    /// When positive: pieces revealed and not yet settled across all peers, shared out equally, with
    /// <paramref name="revealAtOnce"/> the least each peer gets; a peer reaches its share one settled piece at a time.
    /// A lone downloader soon has the whole budget in flight; with many, each has a little, so the blob leaves the seed in a narrow front (every piece reaches its first peer
    /// soon after it is shown, and the peers' in-order prefixes, what their streaming readers pass on, keep up).
    /// </param>
    /// <param name="time">
    /// The clock that times each peer from reveal to settle; without one every peer is shown the front, and pieces
    /// sent in full settle at once (no forward window).
    /// </param>
    /// <param name="forwardWindow">
    /// When positive (and with a clock): pieces sent in full to a peer and not yet announced by another peer, at most,
    /// before it is shown more. 0: a piece settles when sent in full.
    /// </param>
    /// <param name="forwardWait">How long a piece sent in full waits for another peer to announce it, at most.</param>
    public SuperSeeder(int pieceCount, int revealAtOnce, Func<int, int> pieceSize, int revealBudget = 0, TimeProvider? time = null, int forwardWindow = 0, TimeSpan forwardWait = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(revealAtOnce, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(revealBudget);
        ArgumentOutOfRangeException.ThrowIfNegative(forwardWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(forwardWait, TimeSpan.Zero);
        _pieceCount = pieceCount;
        _revealAtOnce = revealAtOnce;
        _revealBudget = revealBudget;
        _pieceSize = pieceSize;
        _time = time;
        _forwardWindow = time is null ? 0 : forwardWindow;
        _forwardWait = forwardWait;
        _copies = new int[pieceCount];
        _availability = new int[pieceCount];
        _shownAt = new long[pieceCount];
        _awaitingForward = new int[pieceCount];
    }

    public int PeerCount => _peers.Count;

    /// <summary>Copies of the piece handed out: sent in full, or revealed and still pending.</summary>
    public int CopiesOf(int piece) => _copies[piece];

    /// <summary>Super-seeded peers known to hold the piece.</summary>
    public int AvailabilityOf(int piece) => _availability[piece];

    /// <summary>What the peer has been shown so far (the bitfield to send it, then one <c>have</c> per reveal).</summary>
    public Bitfield RevealedTo(int peer) => _peers[peer].Revealed;

    /// <summary>Revealed to the peer and neither sent in full nor had by it yet.</summary>
    public IReadOnlyCollection<int> PendingFor(int peer) => _peers[peer].Pending.Keys;

    /// <summary>Sent in full to the peer and not yet announced by another peer (with a forward window).</summary>
    public IReadOnlyCollection<int> ForwardingFor(int peer) => _peers[peer].Forwarding.Keys;

    /// <summary>
    /// Starts showing pieces to a new peer whose pieces are <paramref name="peerPieces"/> (the session's live
    /// bitfield: the seeder reads it, the caller keeps it current and reports changes). The first pieces to show
    /// are added to <paramref name="revealed"/>.
    /// </summary>
    public void AddPeer(int peer, Bitfield peerPieces, List<int> revealed)
    {
        ArgumentNullException.ThrowIfNull(peerPieces);
        var state = new PeerState(new Bitfield(_pieceCount), peerPieces);
        _peers.Add(peer, state);
        AddAvailability(peerPieces);
        RevealMore(state, revealed);
    }

    /// <summary>The peer is gone: its pending pieces cost no copy after all.</summary>
    public void RemovePeer(int peer)
    {
        if (!_peers.Remove(peer, out var state))
        {
            return;
        }

        foreach (var piece in state.Pending.Keys)
        {
            _copies[piece]--;
        }

        foreach (var piece in state.Forwarding.Keys)
        {
            _awaitingForward[piece]--;
        }

        RemoveAvailability(state.Pieces);
    }

    /// <summary>
    /// The peer announced a piece (<c>have</c>; its bitfield was already updated). Pieces shown to the peer go to
    /// <paramref name="revealed"/>; with a forward window, another peer that was waiting for this piece to be passed on
    /// may be shown more, and those go to <paramref name="revealedToOthers"/>.
    /// </summary>
    public void OnHave(int peer, int piece, List<int> revealed, List<(int Peer, int Piece)> revealedToOthers)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            return;
        }

        _availability[piece]++;
        if (_awaitingForward[piece] > 0)
        {
            PassedOn(peer, piece, revealedToOthers);
        }

        Settle(state, piece, revealed);
    }

    /// <summary>Time passed: pieces that waited the whole forward wait stop holding the peer back.</summary>
    public void OnTick(int peer, List<int> revealed)
    {
        if (_forwardWindow > 0 && _peers.TryGetValue(peer, out var state) && state.Forwarding.Count > 0)
        {
            RevealMore(state, revealed);
        }
    }

    // Another peer announced the piece: whoever was sent it and waited for it to be passed on is free of it.
    private void PassedOn(int announcer, int piece, List<(int Peer, int Piece)> revealedToOthers)
    {
        foreach (var (key, other) in _peers)
        {
            if (key == announcer || !other.Forwarding.Remove(piece, out var forward))
            {
                continue;
            }

            _awaitingForward[piece]--;
            Observe(other, forward.RevealedAt);
            _passedOnScratch.Clear();
            RevealMore(other, _passedOnScratch);
            foreach (var shown in _passedOnScratch)
            {
                revealedToOthers.Add((key, shown));
            }

            if (_awaitingForward[piece] == 0)
            {
                return;
            }
        }
    }

    /// <summary>The peer's bitfield is about to be replaced: forget what it said it had.</summary>
    public void BeforeBitfield(int peer)
    {
        if (_peers.TryGetValue(peer, out var state))
        {
            RemoveAvailability(state.Pieces);
        }
    }

    /// <summary>The peer's bitfield was replaced: count it, and settle the pending pieces it already holds.</summary>
    public void AfterBitfield(int peer, List<int> revealed)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            return;
        }

        AddAvailability(state.Pieces);
        List<int>? had = null;
        foreach (var piece in state.Pending.Keys)
        {
            if (state.Pieces[piece])
            {
                (had ??= []).Add(piece);
            }
        }

        if (had is null)
        {
            RevealMore(state, revealed);
            return;
        }

        foreach (var piece in had)
        {
            Settle(state, piece, revealed);
        }
    }

    /// <summary>
    /// A block of <paramref name="length"/> bytes of <paramref name="piece"/> went to the peer. When the
    /// peer has now been sent the whole of a pending piece, that copy is spent and a new piece is shown.
    /// </summary>
    public void OnBlockSent(int peer, int piece, int length, List<int> revealed)
    {
        if (!_peers.TryGetValue(peer, out var state) || !state.Pending.TryGetValue(piece, out var pending))
        {
            return;
        }

        var sent = pending.Sent + length;
        if (sent < _pieceSize(piece))
        {
            state.Pending[piece] = pending with { Sent = sent };
            return;
        }

        // The copy stays counted: it went over the seed's uplink.
        state.Pending.Remove(piece);
        if (_forwardWindow > 0 && _availability[piece] < _peers.Count - 1)
        {
            // Others lack it: on the peer's account until one of them announces it.
            state.Forwarding.Add(piece, new Forward(pending.RevealedAt, _time!.GetTimestamp()));
            _awaitingForward[piece]++;
        }
        else
        {
            Observe(state, pending.RevealedAt);
        }

        RevealMore(state, revealed);
    }

    private void Settle(PeerState state, int piece, List<int> revealed)
    {
        if (state.Pending.Remove(piece, out var pending))
        {
            // The peer got it elsewhere before asking us for all of it: no copy of ours was spent.
            _copies[piece]--;
            Observe(state, pending.RevealedAt);
        }

        RevealMore(state, revealed);
    }

    private void RevealMore(PeerState state, List<int> revealed)
    {
        var limit = LimitOf(state);
        if (_forwardWindow > 0 && state.Forwarding.Count > 0)
        {
            ForgetStaleForwards(state);
            if (state.Forwarding.Count >= Math.Max(_forwardWindow, limit))
            {
                return;
            }
        }

        var skip = PiecesBehind(state);
        var now = _time?.GetTimestamp() ?? 0;
        while (state.Pending.Count < limit)
        {
            var piece = PickLeastCopied(state, skip);
            if (piece < 0)
            {
                return;
            }

            state.Revealed.Set(piece);
            state.Pending.Add(piece, new Pending(0, now));
            _shownAt[piece] = now;
            _copies[piece]++;
            revealed.Add(piece);
        }
    }

    /// <summary>
    /// The peer's share of the budget, reached one settled piece at a time from <see cref="_revealAtOnce"/>: peers
    /// that connect together start equal, instead of the first to arrive being shown the whole budget at once and
    /// holding the front of the blob while it fetches all of it at a twelfth of the seed's uplink.
    /// </summary>
    private int LimitOf(PeerState state)
    {
        if (_revealBudget <= 0)
        {
            return _revealAtOnce;
        }

        var share = Math.Max(_revealAtOnce, _revealBudget / Math.Max(1, _peers.Count));
        return Math.Min(share, _revealAtOnce + state.Settled);
    }

    // Pieces sent longer ago than the forward wait: the peer cannot pass them on soon (or its peers cannot reach it).
    private void ForgetStaleForwards(PeerState state)
    {
        List<int>? stale = null;
        foreach (var (piece, forward) in state.Forwarding)
        {
            if (_time!.GetElapsedTime(forward.SentAt) >= _forwardWait)
            {
                (stale ??= []).Add(piece);
            }
        }

        foreach (var piece in stale ?? [])
        {
            state.Forwarding.Remove(piece, out var forward);
            _awaitingForward[piece]--;
            Observe(state, forward.RevealedAt);
        }
    }

    /// <summary>A shown piece settled: counted, and its time from reveal to settle smoothed into the peer's.</summary>
    private void Observe(PeerState state, long revealedAt)
    {
        state.Settled++;
        if (_time is null)
        {
            return;
        }

        var seconds = _time.GetElapsedTime(revealedAt).TotalSeconds;
        state.Latency = state.Latency > 0 ? (0.7 * state.Latency) + (0.3 * seconds) : Math.Max(seconds, 1e-6);
    }

    /// <summary>
    /// How many of the front's pieces to leave to faster peers: the front moves at the rate all peers settle pieces
    /// (by Little's law, pieces shown at once over each one's time to settle, summed), and this peer settles later than
    /// the fastest by the difference of their times.
    /// </summary>
    private int PiecesBehind(PeerState state)
    {
        var latency = LatencyOf(state);
        if (latency <= 0)
        {
            return 0;
        }

        var fastest = double.MaxValue;
        var rate = 0.0;
        foreach (var peer in _peers.Values)
        {
            var other = LatencyOf(peer);
            if (other > 0)
            {
                fastest = Math.Min(fastest, other);
                rate += LimitOf(peer) / other;
            }
        }

        return (int)Math.Min(rate * (latency - fastest), _pieceCount);
    }

    /// <summary>The smoothed time to settle, or longer: a piece pending longer than that says the peer slowed down.</summary>
    private double LatencyOf(PeerState state)
    {
        if (state.Latency <= 0 || _time is null)
        {
            return state.Latency;
        }

        var oldest = 0.0;
        foreach (var pending in state.Pending.Values)
        {
            oldest = Math.Max(oldest, _time.GetElapsedTime(pending.RevealedAt).TotalSeconds);
        }

        return Math.Max(state.Latency, oldest);
    }

    /// <summary>
    /// The least-copied, then least-held piece the peer lacks and was not shown; among equals the first, or the one
    /// <paramref name="skip"/> further on. When fewer are left than that, a peer with nothing pending gets the last of
    /// them (it is never left idle), one with pieces pending waits. Once every piece went out (a second copy), a slow
    /// peer with pieces pending waits too, and among equals the one shown longest ago goes first: a piece still held by nobody long after it was shown is stuck with a slow
    /// peer, and the front may have passed it (slow peers are shown pieces ahead of it).
    /// </summary>
    private int PickLeastCopied(PeerState state, int skip)
    {
        var bestCopies = int.MaxValue;
        var bestAvailability = int.MaxValue;
        for (var i = 0; i < _pieceCount; i++)
        {
            if (state.Revealed[i] || state.Pieces[i])
            {
                continue;
            }

            var copies = _copies[i];
            var availability = _availability[i];
            if (copies < bestCopies || (copies == bestCopies && availability < bestAvailability))
            {
                bestCopies = copies;
                bestAvailability = availability;
                if (copies == 0 && availability == 0)
                {
                    break; // nothing beats a piece nobody has and nobody was shown
                }
            }
        }

        if (bestCopies == int.MaxValue)
        {
            return -1;
        }

        if (bestCopies > 0 && skip > 0 && state.Pending.Count > 0)
        {
            return -1;
        }

        // Round two: the one shown longest ago. Round one: the last, for a peer with nothing pending.
        var fallback = -1;
        for (var i = 0; i < _pieceCount; i++)
        {
            if (state.Revealed[i] || state.Pieces[i] || _copies[i] != bestCopies || _availability[i] != bestAvailability)
            {
                continue;
            }

            if (bestCopies > 0)
            {
                fallback = fallback < 0 || _shownAt[i] < _shownAt[fallback] ? i : fallback;
            }
            else if (skip-- == 0)
            {
                return i;
            }
            else
            {
                fallback = i;
            }
        }

        return bestCopies > 0 || state.Pending.Count == 0 ? fallback : -1;
    }

    private void AddAvailability(Bitfield pieces)
    {
        for (var i = 0; i < _pieceCount; i++)
        {
            if (pieces[i])
            {
                _availability[i]++;
            }
        }
    }

    private void RemoveAvailability(Bitfield pieces)
    {
        for (var i = 0; i < _pieceCount; i++)
        {
            if (pieces[i] && _availability[i] > 0)
            {
                _availability[i]--;
            }
        }
    }

    /// <summary>One super-seeded peer: what it was shown, what it holds, its pending pieces, and how fast it settles them.</summary>
    private sealed class PeerState(Bitfield revealed, Bitfield pieces)
    {
        public Bitfield Revealed { get; } = revealed;

        public Bitfield Pieces { get; } = pieces;

        public Dictionary<int, Pending> Pending { get; } = [];

        /// <summary>Sent to it in full, not yet announced by another peer: piece → when it was shown and sent.</summary>
        public Dictionary<int, Forward> Forwarding { get; } = [];

        /// <summary>Pieces shown to it that settled (sent in full, or it got them elsewhere).</summary>
        public int Settled { get; set; }

        /// <summary>Seconds from reveal to settle, smoothed; 0 until the first piece settled.</summary>
        public double Latency { get; set; }
    }

    /// <summary>Bytes of a shown piece sent to the peer so far, and when it was shown.</summary>
    private readonly record struct Pending(int Sent, long RevealedAt);

    /// <summary>A piece sent in full that no other peer announced yet: when it was shown, and when its last block went.</summary>
    private readonly record struct Forward(long RevealedAt, long SentAt);
}

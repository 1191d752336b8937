using P2PRegistry.Core.Pieces;

namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>
/// Which pieces a complete seed (the origin) shows to each of our own peers (BEP 16's super-seeding idea,
/// our variant). Instead of the full bitfield a peer sees a few pieces; each time one of them was sent to it,
/// or it got that piece elsewhere (its <c>have</c>), one more is revealed. So until every piece went out once, each
/// copy the seed's uplink carries is a distinct piece, and the peers must trade to complete: the seed sends about one
/// copy of the blob instead of one per peer.
/// </summary>
/// <remarks>
/// Each job is its own type; this one keeps the peers and their pending pieces and tells each type what happened.
/// <see cref="RevealOrder"/>: which piece is shown next (fewest copies handed out, then fewest holders, then front to
/// back; in round two the one shown longest ago). <see cref="RevealLimit"/>: how many a peer is shown and not yet
/// settled. <see cref="SettleTimer"/> and <see cref="SlowPeerOffset"/>: a peer that settles what it is shown more
/// slowly than the others is shown pieces further back. <see cref="ForwardWindow"/>: a peer that has not passed on
/// what it was sent is shown no more.
/// </remarks>
/// <remarks>
/// Pure state, no I/O and no locking: the swarm calls it under its lock. Peers are small integer ids.
/// The revealed set only grows: a seed cannot take back a piece it said it has.
/// </remarks>
internal sealed partial class SuperSeeder
{
    private readonly int _pieceCount;
    private readonly Func<int, int> _pieceSize;
    private readonly TimeProvider? _time;
    private readonly RevealOrder _order;
    private readonly RevealLimit _limit;
    private readonly ForwardWindow _forward;
    private readonly Dictionary<int, PeerState> _peers = [];
    private readonly List<int> _passedOnScratch = [];
    private readonly List<long> _settledScratch = [];
    private int _fetching;
    private int _dormant;
    private int _dormantFetching;

    /// <param name="settings">The blob's pieces and how many to show.</param>
    /// <param name="time">
    /// The clock that times each peer from reveal to settle; without one every peer is shown the front, and pieces
    /// sent in full settle at once (no forward window).
    /// </param>
    public SuperSeeder(SuperSeederSettings settings, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(settings.PieceSize);
        _order = new RevealOrder(settings.PieceCount);
        _limit = new RevealLimit(settings.RevealAtOnce, settings.RevealBudget);
        _forward = new ForwardWindow(settings.PieceCount, settings.ForwardWindow, settings.ForwardWait, time);
        _pieceCount = settings.PieceCount;
        _pieceSize = settings.PieceSize;
        _time = time;
    }

    /// <summary>
    /// An interested peer that asked for none of the pieces it was shown for this long goes dormant
    /// (<see cref="PeerState.Dormant"/>): a peer that fetches asks within a round trip of the reveal. Longer than the
    /// forward wait, so a peer held back by the forward window is never taken for one that hoards.
    /// </summary>
    public static readonly TimeSpan DormantAfter = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A peer shown pieces that has not said interested this long goes dormant: a downloader says interested within a
    /// round trip of seeing pieces it lacks, a session that only holds the connection never does.
    /// </summary>
    public static readonly TimeSpan NotInterestedDormantAfter = TimeSpan.FromSeconds(1);

    public int PeerCount => _peers.Count;

    /// <summary>Interested peers that asked for none of the pieces they were shown in time (see <see cref="DormantAfter"/>).</summary>
    public int DormantCount => _dormant;

    /// <summary>Copies of the piece handed out: sent in full, or revealed and still pending.</summary>
    public int CopiesOf(int piece) => _order.CopiesOf(piece);

    /// <summary>Super-seeded peers known to hold the piece.</summary>
    public int AvailabilityOf(int piece) => _order.AvailabilityOf(piece);

    /// <summary>What the peer has been shown so far (the bitfield to send it, then one <c>have</c> per reveal).</summary>
    public Bitfield RevealedTo(int peer) => _peers[peer].Revealed;

    /// <summary>Revealed to the peer and neither sent in full nor had by it yet.</summary>
    public IReadOnlyCollection<int> PendingFor(int peer) => _peers[peer].Pending.Keys;

    /// <summary>Sent in full to the peer and not yet announced by another peer (with a forward window).</summary>
    public IReadOnlyCollection<int> ForwardingFor(int peer) => _peers[peer].Account.Pieces;

    /// <summary>
    /// Starts showing pieces to a new peer whose pieces are <paramref name="peerPieces"/> (the session's live
    /// bitfield: the seeder reads it, the caller keeps it current and reports changes). The first pieces to show
    /// are added to <paramref name="revealed"/>.
    /// </summary>
    public void AddPeer(int peer, Bitfield peerPieces, List<int> revealed)
    {
        ArgumentNullException.ThrowIfNull(peerPieces);
        var state = new PeerState(new Bitfield(_pieceCount), peerPieces, new SettleTimer(_time));
        _peers.Add(peer, state);
        _order.AddHolders(peerPieces);
        RevealMore(state, revealed);
    }

    /// <summary>The peer is gone: its pending pieces cost no copy after all.</summary>
    public void RemovePeer(int peer)
    {
        if (!_peers.Remove(peer, out var state))
        {
            return;
        }

        _fetching -= state.Fetching ? 1 : 0;
        _dormant -= state.Dormant ? 1 : 0;
        _dormantFetching -= state.Dormant && state.Fetching ? 1 : 0;
        foreach (var piece in state.Pending.Keys)
        {
            Return(state, piece);
        }

        _forward.Close(state.Account);
        _order.RemoveHolders(state.Pieces);
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

        _order.AddHolder(piece);
        MarkFetching(state);
        if (_forward.IsAwaited(piece))
        {
            PassedOn(peer, piece, revealedToOthers);
        }

        Settle(state, piece, revealed);
    }

    /// <summary>Time passed: pieces that waited the whole forward wait stop holding the peer back.</summary>
    /// <summary>
    /// The peer said interested: it takes part, and wakes if it went dormant before saying so. Saying it again does not
    /// wake a peer that went dormant after: only fetching does.
    /// </summary>
    public void OnInterested(int peer, List<int> revealed)
    {
        if (_peers.TryGetValue(peer, out var state) && !state.Fetching && MarkFetching(state))
        {
            RevealMore(state, revealed);
        }
    }

    /// <summary>
    /// The peer's timer: a peer held back by pieces it has not passed on may be shown more, and one that fetches none of
    /// what it is shown goes dormant (never while <paramref name="choked"/>: a peer we choke cannot ask).
    /// </summary>
    public void OnTick(int peer, List<int> revealed, bool choked = false)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            return;
        }

        if (!choked && !state.Dormant && IsIdle(state))
        {
            // It asked for none of the pieces it was shown (or never even said interested): they go to peers that fetch
            // (they were the front of the blob, and every peer's in-order prefix waits for them), and it takes no share
            // of the budget.
            foreach (var piece in state.Pending.Keys)
            {
                Return(state, piece);
            }

            state.Pending.Clear();
            state.Dormant = true;
            _dormant++;
            _dormantFetching += state.Fetching ? 1 : 0;
            return;
        }

        if (_forward.Enabled && state.Account.Count > 0)
        {
            RevealMore(state, revealed);
        }
    }

    /// <summary>The peer's bitfield is about to be replaced: forget what it said it had.</summary>
    public void BeforeBitfield(int peer)
    {
        if (_peers.TryGetValue(peer, out var state))
        {
            _order.RemoveHolders(state.Pieces);
        }
    }

    /// <summary>The peer's bitfield was replaced: count it, and settle the pending pieces it already holds.</summary>
    public void AfterBitfield(int peer, List<int> revealed)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            return;
        }

        _order.AddHolders(state.Pieces);
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
        if (!_peers.TryGetValue(peer, out var state))
        {
            return;
        }

        if (MarkFetching(state))
        {
            RevealMore(state, revealed);
        }

        if (!state.Pending.TryGetValue(piece, out var pending))
        {
            return;
        }

        var sent = pending.Sent + length;
        if (sent < _pieceSize(piece))
        {
            state.Pending[piece] = pending with { Sent = sent };
            return;
        }

        // The copy stays counted: it went over the seed's uplink. Others lack it: on the peer's account until one of
        // them announces it (with a forward window), else it settles now.
        state.Pending.Remove(piece);
        if (!_forward.TryHold(state.Account, piece, pending.ShownAt, _order.AvailabilityOf(piece), TakingPart))
        {
            state.Timer.Observe(pending.ShownAt);
        }

        RevealMore(state, revealed);
    }

    // Another peer announced the piece: whoever was sent it and waited for it to be passed on is free of it.
    private void PassedOn(int announcer, int piece, List<(int Peer, int Piece)> revealedToOthers)
    {
        foreach (var (key, other) in _peers)
        {
            if (key == announcer || !_forward.TryPassOn(other.Account, piece, out var shownAt))
            {
                continue;
            }

            other.Timer.Observe(shownAt);
            _passedOnScratch.Clear();
            RevealMore(other, _passedOnScratch);
            foreach (var shown in _passedOnScratch)
            {
                revealedToOthers.Add((key, shown));
            }

            if (!_forward.IsAwaited(piece))
            {
                return;
            }
        }
    }

    private void Settle(PeerState state, int piece, List<int> revealed)
    {
        if (state.Pending.Remove(piece, out var pending))
        {
            // The peer got it elsewhere before asking us for all of it: no copy of ours was spent.
            Return(state, piece);

            state.Timer.Observe(pending.ShownAt);
        }

        RevealMore(state, revealed);
    }

    /// <summary>The peer takes part (said interested, fetched or announced a piece). True when it was dormant and wakes.</summary>
    private bool MarkFetching(PeerState state)
    {
        var wasFetching = state.Fetching;
        if (!wasFetching)
        {
            state.Fetching = true;
            _fetching++;
            foreach (var (piece, pending) in state.Pending)
            {
                _order.Confirm(piece, pending.ShownAt);
            }
        }

        if (!state.Dormant)
        {
            return false;
        }

        state.Dormant = false;
        _dormant--;
        _dormantFetching -= wasFetching ? 1 : 0;
        return true;
    }

    /// <summary>A piece shown to the peer no longer waits for it: the copy (or the tentative reveal) goes back.</summary>
    private void Return(PeerState state, int piece)
    {
        if (state.Fetching)
        {
            _order.CopyReturned(piece);
        }
        else
        {
            _order.TentativeReturned(piece);
        }
    }

    /// <summary>
    /// Every piece it was shown waits, untouched, for <see cref="DormantAfter"/> or longer; for a peer that never said
    /// interested, <see cref="NotInterestedDormantAfter"/>.
    /// </summary>
    private bool IsIdle(PeerState state)
    {
        if (state.Pending.Count == 0 || _time is null)
        {
            return false;
        }

        var now = _time.GetTimestamp();
        var after = state.Fetching ? DormantAfter : NotInterestedDormantAfter;
        foreach (var pending in state.Pending.Values)
        {
            if (pending.Sent > 0 || _time.GetElapsedTime(pending.ShownAt, now) < after)
            {
                return false;
            }
        }

        return true;
    }

    private void RevealMore(PeerState state, List<int> revealed)
    {
        if (state.Dormant)
        {
            return;
        }

        var limit = LimitOf(state);
        _settledScratch.Clear();
        var heldBack = _forward.HoldsBack(state.Account, limit, _settledScratch);
        foreach (var shownAt in _settledScratch)
        {
            state.Timer.Observe(shownAt);
        }

        if (heldBack)
        {
            return;
        }

        var skip = PiecesBehind(state);
        var now = _time?.GetTimestamp() ?? 0;
        while (state.Pending.Count < limit)
        {
            var piece = _order.Pick(state.Revealed, state.Pieces, skip, hasPending: state.Pending.Count > 0, countTentative: !state.Fetching);
            if (piece < 0)
            {
                return;
            }

            state.Revealed.Set(piece);
            state.Pending.Add(piece, new Pending(0, now));
            if (state.Fetching)
            {
                _order.Shown(piece, now);
            }
            else
            {
                _order.ShownTentatively(piece);
            }

            revealed.Add(piece);
        }
    }

    /// <summary>
    /// Peers that take part (said interested, fetched or announced a piece) and are not dormant: they share the budget,
    /// and a forward window waits only for them (a session that only holds its connection never passes anything on,
    /// and would hold every peer back by the whole forward wait).
    /// </summary>
    private int TakingPart => _fetching - _dormantFetching;

    private int LimitOf(PeerState state) => _limit.Of(state.Timer.Settled, TakingPart);

    private int PiecesBehind(PeerState state)
    {
        var latency = LatencyOf(state);
        if (latency <= 0)
        {
            return 0;
        }

        var offset = default(SlowPeerOffset);
        foreach (var peer in _peers.Values)
        {
            offset.Add(LatencyOf(peer), LimitOf(peer));
        }

        return offset.PiecesBehind(latency, _pieceCount);
    }

    private static double LatencyOf(PeerState state)
    {
        long? oldest = null;
        foreach (var pending in state.Pending.Values)
        {
            oldest = oldest is { } shownAt && shownAt <= pending.ShownAt ? shownAt : pending.ShownAt;
        }

        return state.Timer.LatencyWith(oldest);
    }
}

namespace P2PRegistry.Swarm.Choking;

/// <summary>
/// Which peers of one swarm this node uploads to (BEP 3 choking), cooperative: no tit-for-tat. Up to
/// <c>slots</c> peers are unchoked; an interested peer gets a free slot at once, or the slot of a peer that is no
/// longer interested. A peer that says not interested keeps its slot until an interested peer waits for one:
/// choking it at once raced with its next requests (it asks again when shown a new piece, drops those requests when
/// our choke arrives, asks again once unchoked, and we, having taken both, sent the piece twice: 4 % of the blob from
/// the origin with 12 Agents).
/// </summary>
/// <remarks>
/// Slots rotate: while a peer waits, every <c>rotation</c> the unchoked peer that took the fewest bytes since the last
/// rotation (held its slot at least that long) is choked and the peer that waited longest unchoked (BEP 3's
/// optimistic unchoke, as a rule against hoarding: an "interested" peer that never asks cannot keep a slot while
/// others wait). With no one waiting nothing rotates, so a cooperative swarm below the slot count never churns.
/// </remarks>
/// <remarks>Pure state, no I/O and no locking: the swarm calls it under its lock and sends what it decides.</remarks>
internal sealed class ChokePolicy
{
    private readonly int _slots;
    private readonly TimeSpan _rotation;
    private readonly TimeProvider _time;
    private readonly Dictionary<int, PeerState> _peers = [];
    private long _lastRotation;
    private int _unchoked;

    public ChokePolicy(int slots, TimeSpan rotation, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rotation, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(time);
        _slots = slots;
        _rotation = rotation;
        _time = time;
        _lastRotation = time.GetTimestamp();
    }

    public int UnchokedCount => _unchoked;

    public int PeerCount => _peers.Count;

    /// <summary>True when this node chokes the peer (every peer starts choked).</summary>
    public bool IsChoking(int peer) => !_peers.TryGetValue(peer, out var state) || !state.Unchoked;

    public bool IsInterested(int peer) => _peers.TryGetValue(peer, out var state) && state.Interested;

    /// <summary>True when some interested peer waits for a slot.</summary>
    public bool AnyoneWaiting => FindLongestWaiting() is not null;

    public void Add(int peer) => _peers.TryAdd(peer, new PeerState(peer));

    /// <summary>The peer is gone: its slot goes to the peer that waited longest.</summary>
    public void Remove(int peer, List<ChokeChange> changes)
    {
        if (!_peers.Remove(peer, out var state))
        {
            return;
        }

        if (state.Unchoked)
        {
            _unchoked--;
            if (FindLongestWaiting() is { } waiting)
            {
                Unchoke(waiting, changes);
            }
        }
    }

    /// <summary>The peer said interested: unchoked if a slot is free or held by a peer that is not interested.</summary>
    public void OnInterested(int peer, List<ChokeChange> changes)
    {
        if (!_peers.TryGetValue(peer, out var state) || state.Interested)
        {
            return;
        }

        state.Interested = true;
        if (state.Unchoked)
        {
            return;
        }

        state.WaitingSince = _time.GetTimestamp();
        if (_unchoked < _slots)
        {
            Unchoke(state, changes);
        }
        else if (FindUnchokedNotInterested() is { } idle)
        {
            Choke(idle, changes);
            Unchoke(state, changes);
        }
    }

    /// <summary>The peer is not interested: it keeps its slot until an interested peer waits for one.</summary>
    public void OnNotInterested(int peer, List<ChokeChange> changes)
    {
        if (!_peers.TryGetValue(peer, out var state) || !state.Interested)
        {
            return;
        }

        state.Interested = false;
        if (state.Unchoked && FindLongestWaiting() is { } waiting)
        {
            Choke(state, changes);
            Unchoke(waiting, changes);
        }
    }

    /// <summary>Bytes sent to the peer (what a rotation compares).</summary>
    public void OnUploaded(int peer, int bytes)
    {
        if (_peers.TryGetValue(peer, out var state))
        {
            state.TakenSinceRotation += bytes;
        }
    }

    /// <summary>
    /// Called often (every session tick); acts at most once per rotation interval, and only while a peer waits:
    /// the unchoked peer that took least since the last rotation gives its slot to the one that waited longest.
    /// </summary>
    public void OnTick(List<ChokeChange> changes)
    {
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(_lastRotation, now) < _rotation)
        {
            return;
        }

        _lastRotation = now;
        if (FindLongestWaiting() is { } waiting)
        {
            PeerState? least = null;
            foreach (var state in _peers.Values)
            {
                if (state.Unchoked && _time.GetElapsedTime(state.UnchokedAt, now) >= _rotation
                    && (least is null || state.TakenSinceRotation < least.TakenSinceRotation))
                {
                    least = state;
                }
            }

            if (least is not null)
            {
                Choke(least, changes);
                Unchoke(waiting, changes);
            }
        }

        foreach (var state in _peers.Values)
        {
            state.TakenSinceRotation = 0;
        }
    }

    private void Choke(PeerState state, List<ChokeChange> changes)
    {
        state.Unchoked = false;
        state.WaitingSince = _time.GetTimestamp();
        _unchoked--;
        changes.Add(new ChokeChange(state.Peer, Choke: true));
    }

    private void Unchoke(PeerState state, List<ChokeChange> changes)
    {
        state.Unchoked = true;
        state.UnchokedAt = _time.GetTimestamp();
        state.TakenSinceRotation = 0;
        _unchoked++;
        changes.Add(new ChokeChange(state.Peer, Choke: false));
    }

    private PeerState? FindLongestWaiting()
    {
        PeerState? longest = null;
        foreach (var state in _peers.Values)
        {
            if (!state.Unchoked && state.Interested && (longest is null || state.WaitingSince < longest.WaitingSince))
            {
                longest = state;
            }
        }

        return longest;
    }

    private PeerState? FindUnchokedNotInterested()
    {
        foreach (var state in _peers.Values)
        {
            if (state.Unchoked && !state.Interested)
            {
                return state;
            }
        }

        return null;
    }

    private sealed class PeerState(int peer)
    {
        public int Peer { get; } = peer;

        public bool Unchoked { get; set; }

        public bool Interested { get; set; }

        public long UnchokedAt { get; set; }

        public long WaitingSince { get; set; }

        public long TakenSinceRotation { get; set; }
    }
}

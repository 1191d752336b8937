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
/// Pure state, no I/O and no locking: the swarm calls it under its lock. Peers are small integer ids.
/// The revealed set only grows: a seed cannot take back a piece it said it has.
/// </remarks>
internal sealed class SuperSeeder
{
    private readonly int _pieceCount;
    private readonly int _revealAtOnce;
    private readonly int _revealBudget;
    private readonly Func<int, int> _pieceSize;
    private readonly int[] _copies;
    private readonly int[] _availability;
    private readonly Dictionary<int, PeerState> _peers = [];

    /// <param name="pieceCount">Pieces of the blob.</param>
    /// <param name="revealAtOnce">Pieces revealed to a peer and not yet settled, at most (its pipeline to this seed).</param>
    /// <param name="pieceSize">The size of a piece (the last one is shorter).</param>
    /// <param name="revealBudget">
    /// When positive: pieces revealed and not yet settled across all peers, shared out equally, with
    /// <paramref name="revealAtOnce"/> the least each peer gets. A lone downloader has the whole budget in flight; with
    /// many, each has a little, so the blob leaves the seed in a narrow front (every piece reaches its first peer
    /// soon after it is shown, and the peers' in-order prefixes, what their streaming readers pass on, keep up).
    /// </param>
    public SuperSeeder(int pieceCount, int revealAtOnce, Func<int, int> pieceSize, int revealBudget = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(revealAtOnce, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(revealBudget);
        _pieceCount = pieceCount;
        _revealAtOnce = revealAtOnce;
        _revealBudget = revealBudget;
        _pieceSize = pieceSize;
        _copies = new int[pieceCount];
        _availability = new int[pieceCount];
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

        RemoveAvailability(state.Pieces);
    }

    /// <summary>The peer announced a piece (<c>have</c>; its bitfield was already updated).</summary>
    public void OnHave(int peer, int piece, List<int> revealed)
    {
        if (!_peers.TryGetValue(peer, out var state))
        {
            return;
        }

        _availability[piece]++;
        Settle(state, piece, revealed);
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
        if (!_peers.TryGetValue(peer, out var state) || !state.Pending.TryGetValue(piece, out var sent))
        {
            return;
        }

        sent += length;
        if (sent < _pieceSize(piece))
        {
            state.Pending[piece] = sent;
            return;
        }

        // The copy stays counted: it went over the seed's uplink.
        state.Pending.Remove(piece);
        RevealMore(state, revealed);
    }

    private void Settle(PeerState state, int piece, List<int> revealed)
    {
        if (state.Pending.Remove(piece))
        {
            // The peer got it elsewhere before asking us for all of it: no copy of ours was spent.
            _copies[piece]--;
        }

        RevealMore(state, revealed);
    }

    private void RevealMore(PeerState state, List<int> revealed)
    {
        var limit = _revealBudget > 0 ? Math.Max(_revealAtOnce, _revealBudget / Math.Max(1, _peers.Count)) : _revealAtOnce;
        while (state.Pending.Count < limit)
        {
            var piece = PickLeastCopied(state);
            if (piece < 0)
            {
                return;
            }

            state.Revealed.Set(piece);
            state.Pending.Add(piece, 0);
            _copies[piece]++;
            revealed.Add(piece);
        }
    }

    private int PickLeastCopied(PeerState state)
    {
        var best = -1;
        var bestCopies = int.MaxValue;
        var bestAvailability = int.MaxValue;
        for (var i = 0; i < _pieceCount; i++)
        {
            if (state.Revealed[i] || state.Pieces[i])
            {
                continue;
            }

            // Strictly better only: among equals the first piece stays.
            var copies = _copies[i];
            var availability = _availability[i];
            if (copies < bestCopies || (copies == bestCopies && availability < bestAvailability))
            {
                best = i;
                bestCopies = copies;
                bestAvailability = availability;
                if (copies == 0 && availability == 0)
                {
                    break; // nothing beats a piece nobody has and nobody was shown
                }
            }
        }

        return best;
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

    /// <summary>One super-seeded peer: what it was shown, what it holds, and bytes sent of each pending piece.</summary>
    private sealed class PeerState(Bitfield revealed, Bitfield pieces)
    {
        public Bitfield Revealed { get; } = revealed;

        public Bitfield Pieces { get; } = pieces;

        public Dictionary<int, int> Pending { get; } = [];
    }
}

using P2PRegistry.Core.Pieces;

namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>
/// Which piece a super-seeded peer is shown next: the one with the fewest copies handed out (sent, or revealed and not
/// yet settled), then the one fewest peers hold, then the first in the blob. So until every piece went out once, each
/// copy the seed's uplink carries is a distinct piece, and the peers must trade to complete: the seed sends about one
/// copy of the blob instead of one per peer. Once every piece went out (round two), among equals the one shown longest
/// ago goes first.
/// </summary>
/// <remarks>
/// Lowest index among equals, not random: the blob enters the swarm front to back, a window of a few pieces per
/// peer wide, so every peer's verified prefix (what a streaming reader can pass on) follows the download closely
/// instead of jumping at the end, and little is left to stream once the last piece arrives.
/// </remarks>
/// <remarks>
/// Pure state, no I/O and no locking: per piece, the copies handed out, the super-seeded peers that hold it, and when
/// it was last shown. The caller reports each of those changes.
/// </remarks>
internal sealed class RevealOrder
{
    private readonly int _pieceCount;
    private readonly int[] _copies;
    private readonly int[] _availability;
    private readonly long[] _shownAt;
    private readonly int[] _tentative;

    public RevealOrder(int pieceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        _pieceCount = pieceCount;
        _copies = new int[pieceCount];
        _availability = new int[pieceCount];
        _shownAt = new long[pieceCount];
        _tentative = new int[pieceCount];
    }

    public int PieceCount => _pieceCount;

    /// <summary>Copies of the piece handed out: sent in full, or revealed and still pending.</summary>
    public int CopiesOf(int piece) => _copies[piece];

    /// <summary>Super-seeded peers known to hold the piece.</summary>
    public int AvailabilityOf(int piece) => _availability[piece];

    /// <summary>The piece was shown to a peer at <paramref name="timestamp"/>: one more copy handed out.</summary>
    public void Shown(int piece, long timestamp)
    {
        _shownAt[piece] = timestamp;
        _copies[piece]++;
    }

    /// <summary>A copy handed out was not spent after all (the peer got the piece elsewhere, or left).</summary>
    /// <summary>
    /// Shown to a peer that has not said interested yet: not a copy handed out (a session that only holds its
    /// connection takes no piece from anyone), but other such peers are shown other pieces (peers that connect
    /// together still start on distinct pieces).
    /// </summary>
    public void ShownTentatively(int piece) => _tentative[piece]++;

    public void TentativeReturned(int piece) => _tentative[piece]--;

    /// <summary>The peer the piece was shown to tentatively said interested: it is a copy handed out from now on.</summary>
    public void Confirm(int piece, long shownAt)
    {
        _tentative[piece]--;
        Shown(piece, shownAt);
    }

    public void CopyReturned(int piece) => _copies[piece]--;

    /// <summary>A peer announced the piece.</summary>
    public void AddHolder(int piece) => _availability[piece]++;

    /// <summary>A peer's pieces count (a new peer, or its bitfield replaced).</summary>
    public void AddHolders(Bitfield pieces)
    {
        for (var i = 0; i < _pieceCount; i++)
        {
            if (pieces[i])
            {
                _availability[i]++;
            }
        }
    }

    /// <summary>A peer's pieces no longer count (it left, or its bitfield is about to be replaced).</summary>
    public void RemoveHolders(Bitfield pieces)
    {
        for (var i = 0; i < _pieceCount; i++)
        {
            if (pieces[i] && _availability[i] > 0)
            {
                _availability[i]--;
            }
        }
    }

    /// <summary>
    /// The least-copied, then least-held piece the peer lacks (<paramref name="pieces"/>) and was not shown
    /// (<paramref name="revealed"/>); among equals the first, or the one <paramref name="skip"/> further on (see
    /// <see cref="SlowPeerOffset"/>). When fewer are left than that, a peer with nothing pending gets the last of
    /// them (it is never left idle), one with pieces pending waits. Once every piece went out (a second copy), a slow
    /// peer (<paramref name="skip"/> above 0) with pieces pending waits too, and among equals the one shown longest ago
    /// goes first: a piece still held by nobody long after it was shown is stuck with a slow peer, and the front may
    /// have passed it (slow peers are shown pieces ahead of it). -1: none to show now.
    /// </summary>
    public int Pick(Bitfield revealed, Bitfield pieces, int skip, bool hasPending, bool countTentative = false)
    {
        var bestCopies = int.MaxValue;
        var bestAvailability = int.MaxValue;
        for (var i = 0; i < _pieceCount; i++)
        {
            if (revealed[i] || pieces[i])
            {
                continue;
            }

            var copies = CopiesFor(i, countTentative);
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

        if (bestCopies > 0 && skip > 0 && hasPending)
        {
            return -1;
        }

        // Round two: the one shown longest ago. Round one: the last, for a peer with nothing pending.
        var fallback = -1;
        for (var i = 0; i < _pieceCount; i++)
        {
            if (revealed[i] || pieces[i] || CopiesFor(i, countTentative) != bestCopies || _availability[i] != bestAvailability)
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

        return bestCopies > 0 || !hasPending ? fallback : -1;
    }

    private int CopiesFor(int piece, bool countTentative) => countTentative ? _copies[piece] + _tentative[piece] : _copies[piece];
}

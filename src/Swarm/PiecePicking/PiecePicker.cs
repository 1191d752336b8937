using System.Numerics;
using P2PRegistry.Core.Pieces;

namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>
/// Decides which blocks to ask which peer for. Order: the priority window (a streaming reader needs those
/// pieces next), then pieces already started (finish before starting more, so pieces verify and spread
/// sooner), then new pieces rarest first (random among equally rare, so peers fetch different pieces and
/// can trade them). When every missing block is already asked of someone (endgame), blocks are asked of
/// other peers too, and the duplicates cancelled when the first copy arrives.
/// Locality: a peer of another zone (<c>remote</c>) is asked only for pieces that no local peer serving us holds, so a
/// zone pulls each piece across once and spreads it inside; when every local holder of a piece chokes us (or stalled),
/// the piece is the remote peers' again, so a zone that lacks data still gets it. The local peers also split the
/// pieces to pull across between them (<see cref="SetCrossingShare"/>, <see cref="CrossingShare"/>): each piece is
/// fetched across by the one agent whose share it is. A piece in flight is not announced (BEP 3: <c>have</c> means
/// verified), so the others do not see it coming; they leave another's share to its owner as long as the owner shows
/// progress on it (a <c>have</c> of a piece of its share, <see cref="OnLocalHave"/>) at least every <c>crossingWait</c>:
/// on a saturated link between zones every owner is behind on its share all along, and a wait counted per piece would
/// send the same pieces across twice. An owner that shows no progress for <c>crossingWait</c> (slow, cut off or dead)
/// loses its share to the others until it shows progress again, so the share still arrives; pieces nobody owns
/// (local peers that see different local peers split differently) are the others' after the same wait. Origins are exempt: they super-seed (show each peer a few distinct
/// pieces) and are already asked only for pieces no peer holds.
/// Wanted pieces: a download started for byte ranges (<see cref="WantOnly"/>) picks only the pieces asked for with
/// <see cref="Want"/>, and its endgame and interest count those only; <see cref="WantAll"/> makes it a whole download.
/// </summary>
/// <remarks>
/// Pure state, no I/O and no locking: the swarm calls it under its lock. Peers are small integer ids.
/// </remarks>
internal sealed class PiecePicker
{
    public const int DefaultBlockSize = 16 * 1024;

    /// <summary>At most this many peers are asked for one block in endgame.</summary>
    public const int MaxRequestersPerBlock = 3;

    /// <summary>How long the owner of a crossing share may show no progress on it before the others fetch it across.</summary>
    public static readonly TimeSpan DefaultCrossingWait = TimeSpan.FromSeconds(2);

    private readonly int _pieceLength;
    private readonly long _length;
    private readonly int _blockSize;
    private readonly Random _random;
    private readonly Bitfield _have;
    private Bitfield? _wanted;
    private readonly Bitfield _startedPieces;
    private readonly int[] _availability;
    private readonly int[] _unservedAvailability;
    private readonly int[] _localServing;
    private readonly TimeProvider _time;
    private readonly TimeSpan _crossingWait;
    private CrossingShare? _crossingShare;

    // Per owner of the crossing share: when it last showed progress on its share (or became an owner).
    private long[] _ownerProgress = [];
    private long _now;
    private readonly Dictionary<int, PieceProgress> _inProgress = [];
    private readonly List<PieceProgress> _started = [];
    private int _openBlocks;
    private int _priorityFirst;
    private int _priorityCount;

    /// <param name="time">The clock of the crossing wait (fake in tests).</param>
    /// <param name="crossingWait">How long the owner of a crossing share may show no progress before the others take it over (default <see cref="DefaultCrossingWait"/>; zero: shares are not waited for).</param>
    public PiecePicker(int pieceCount, int pieceLength, long length, Random random, int blockSize = DefaultBlockSize,
        TimeProvider? time = null, TimeSpan? crossingWait = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        _time = time ?? TimeProvider.System;
        _crossingWait = crossingWait ?? DefaultCrossingWait;
        ArgumentOutOfRangeException.ThrowIfLessThan(_crossingWait, TimeSpan.Zero, nameof(crossingWait));
        PieceCount = pieceCount;
        _pieceLength = pieceLength;
        _length = length;
        _blockSize = blockSize;
        _random = random;
        _have = new Bitfield(pieceCount);
        _startedPieces = new Bitfield(pieceCount);
        _availability = new int[pieceCount];
        _unservedAvailability = new int[pieceCount];
        _localServing = new int[pieceCount];
        for (var i = 0; i < pieceCount; i++)
        {
            _openBlocks += BlockCount(i);
        }
    }

    public int PieceCount { get; }

    public int BlockSize => _blockSize;

    public int HaveCount => _have.SetCount;

    public bool IsComplete => _have.AllSet;

    /// <summary>True when no missing (wanted) block is left unasked: duplicates may be requested.</summary>
    public bool IsEndgame => _wanted is null ? _openBlocks == 0 && !_have.AllSet : IsWantedEndgame();

    /// <summary>Every piece is fetched (the default), not only the pieces asked for with <see cref="Want"/>.</summary>
    public bool WantsAll => _wanted is null;

    /// <summary>The piece is to be fetched: every piece, or one asked for since <see cref="WantOnly"/>.</summary>
    public bool IsWanted(int piece) => _wanted is null || _wanted[piece];

    /// <summary>From now on only the pieces asked for with <see cref="Want"/> are fetched (none yet).</summary>
    public void WantOnly() => _wanted = new Bitfield(PieceCount);

    /// <summary>
    /// Adds <paramref name="count"/> pieces from <paramref name="firstPiece"/> (those inside the blob) to the pieces to
    /// fetch; nothing changes while every piece is wanted. True when a piece this node lacks was added.
    /// </summary>
    public bool Want(int firstPiece, int count)
    {
        if (_wanted is not { } wanted)
        {
            return false;
        }

        var added = false;
        var end = (int)Math.Min(PieceCount, (long)firstPiece + Math.Max(count, 0));
        for (var piece = Math.Max(firstPiece, 0); piece < end; piece++)
        {
            added |= wanted.Set(piece) && !_have[piece];
        }

        return added;
    }

    /// <summary>Every piece is fetched from now on (a whole download). True when that changed anything.</summary>
    public bool WantAll()
    {
        var changed = _wanted is not null;
        _wanted = null;
        return changed;
    }

    // Endgame of a partial download: every wanted piece still missing is started and has no block left to ask.
    private bool IsWantedEndgame()
    {
        var wanted = _wanted!.Words;
        var have = _have.Words;
        var started = _startedPieces.Words;
        var missing = false;
        for (var w = 0; w < wanted.Length; w++)
        {
            var lacking = wanted[w] & ~have[w];
            if ((lacking & ~started[w]) != 0)
            {
                return false;
            }

            missing |= lacking != 0;
        }

        if (!missing)
        {
            return false;
        }

        foreach (var progress in _started)
        {
            if (progress.OpenCount > 0 && _wanted[progress.Index])
            {
                return false;
            }
        }

        return true;
    }

    public bool Has(int piece) => _have[piece];

    public int GetAvailability(int piece) => _availability[piece];

    public int PieceSize(int piece) => piece == PieceCount - 1 ? (int)(_length - ((long)piece * _pieceLength)) : _pieceLength;

    public int BlockCount(int piece) => (PieceSize(piece) + _blockSize - 1) / _blockSize;

    public int BlockLength(int piece, int block) => Math.Min(_blockSize, PieceSize(piece) - (block * _blockSize));

    /// <summary>A piece this node already holds (resumed from disk, or verified).</summary>
    public void MarkHave(int piece)
    {
        if (_have[piece])
        {
            return;
        }

        if (_inProgress.Remove(piece, out var progress))
        {
            _started.Remove(progress);
            _startedPieces.Clear(piece);
            _openBlocks -= progress.OpenCount;
        }
        else
        {
            _openBlocks -= BlockCount(piece);
        }

        _have.Set(piece);
    }

    /// <summary>
    /// A peer's pieces count towards availability. <paramref name="unserved"/>: the peer will not serve them
    /// to us now (an origin, the last resort; or a peer choking us), so they do not keep an origin from being
    /// asked for them. <paramref name="local"/>: the peer is in this node's zone; while it serves us, remote
    /// peers are not asked for its pieces.
    /// </summary>
    public void AddAvailability(Bitfield peerPieces, bool unserved = false, bool local = false)
    {
        for (var i = 0; i < PieceCount; i++)
        {
            if (peerPieces[i])
            {
                AddAvailability(i, unserved, local);
            }
        }
    }

    /// <summary>Undoes <see cref="AddAvailability(Bitfield, bool, bool)"/>, with the same flags.</summary>
    public void RemoveAvailability(Bitfield peerPieces, bool unserved = false, bool local = false)
    {
        for (var i = 0; i < PieceCount; i++)
        {
            if (peerPieces[i] && _availability[i] > 0)
            {
                _availability[i]--;
                if (unserved && _unservedAvailability[i] > 0)
                {
                    _unservedAvailability[i]--;
                }

                if (local && !unserved && _localServing[i] > 0)
                {
                    _localServing[i]--;
                }
            }
        }
    }

    public void AddAvailability(int piece, bool unserved = false, bool local = false)
    {
        _availability[piece]++;
        if (unserved)
        {
            _unservedAvailability[piece]++;
        }
        else if (local)
        {
            _localServing[piece]++;
        }
    }

    /// <summary>A peer (not an origin) started or stopped serving us (unchoke / choke): its pieces move.</summary>
    public void SetServing(Bitfield peerPieces, bool serving, bool local = false)
    {
        for (var i = 0; i < PieceCount; i++)
        {
            if (peerPieces[i])
            {
                _unservedAvailability[i] = Math.Max(0, _unservedAvailability[i] + (serving ? -1 : 1));
                if (local)
                {
                    _localServing[i] = Math.Max(0, _localServing[i] + (serving ? 1 : -1));
                }
            }
        }
    }

    /// <summary>
    /// A connected peer turned out to be in this node's zone (<paramref name="local"/>) or not, after its pieces were
    /// counted; <paramref name="serving"/> is whether it serves us now (its pieces count as locally served only then).
    /// </summary>
    public void SetLocal(Bitfield peerPieces, bool local, bool serving)
    {
        if (!serving)
        {
            return;
        }

        for (var i = 0; i < PieceCount; i++)
        {
            if (peerPieces[i])
            {
                _localServing[i] = Math.Max(0, _localServing[i] + (local ? 1 : -1));
            }
        }
    }

    /// <summary>
    /// The split of the pieces to pull from remote peers between this node and its local peers (<see cref="CrossingShare"/>):
    /// this node's own share, and another's piece only while its owner shows no progress. Null: every piece (no local
    /// peers, or no locality). An owner that stays an owner (the same connection) keeps its progress clock; a new one
    /// starts with a full <c>crossingWait</c>.
    /// </summary>
    public void SetCrossingShare(CrossingShare? share)
    {
        var now = Math.Max(1, _time.GetTimestamp());
        var progress = share is null ? [] : new long[share.OwnerCount];
        Array.Fill(progress, now);
        if (share is not null && _crossingShare is { } previous)
        {
            foreach (var (peer, owner) in share.Peers)
            {
                if (previous.TryGetOwner(peer, out var before))
                {
                    progress[owner] = _ownerProgress[before];
                }
            }
        }

        _crossingShare = share;
        _ownerProgress = progress;
    }

    /// <summary>
    /// A local peer announced a piece (<c>have</c>): if the piece is of its crossing share, its owner showed progress, and
    /// the rest of its share stays its own for another <c>crossingWait</c>.
    /// </summary>
    public void OnLocalHave(int peer, int piece)
    {
        if (_crossingShare is { } share && (uint)piece < (uint)PieceCount && share.TryGetOwner(peer, out var owner)
            && share.OwnerOf(piece) == owner)
        {
            _ownerProgress[owner] = Math.Max(1, _time.GetTimestamp());
        }
    }

    /// <summary>A connected peer of this node's zone holds the piece and serves us: remote peers are not asked for it.</summary>
    public bool IsHeldLocally(int piece) => _localServing[piece] > 0;

    /// <summary>A connected peer that is not an origin holds the piece and is not choking us.</summary>
    public bool IsHeldByPeer(int piece) => _availability[piece] > _unservedAvailability[piece];

    /// <summary>Whether a peer holds anything this node lacks and wants (BEP 3 <c>interested</c>).</summary>
    public bool IsInteresting(Bitfield peerPieces)
    {
        var peer = peerPieces.Words;
        var have = _have.Words;
        var wanted = _wanted is { } set ? set.Words : default;
        for (var w = 0; w < have.Length; w++)
        {
            if ((peer[w] & ~have[w] & (wanted.IsEmpty ? ~0UL : wanted[w])) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A streaming reader is at <paramref name="firstPiece"/>: the first <paramref name="count"/> pieces from there
    /// that this node lacks are fetched before anything else.
    /// </summary>
    /// <remarks>
    /// Counted in missing pieces, not in positions: deep into a swarm download most pieces ahead of the reader are
    /// already here, and a window of positions would hold one missing piece at a time, so the reader's prefix would
    /// advance one round trip per gap and the stream would trail the download to its end.
    /// </remarks>
    public void Prioritize(int firstPiece, int count)
    {
        _priorityFirst = Math.Clamp(firstPiece, 0, PieceCount);
        _priorityCount = Math.Max(count, 0);
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with blocks to ask of <paramref name="peer"/>; returns how many.
    /// <paramref name="origin"/> true asks an origin, the last resort: its uplink is shared by every
    /// download, so it is asked only for pieces no connected peer holds, and never for endgame duplicates
    /// (a duplicate it sends is wasted). <paramref name="remote"/> true asks a peer of another zone: only for
    /// pieces no local peer serving us holds (<see cref="IsHeldLocally"/>), endgame duplicates included, and of those
    /// (unless it is an origin) this node's <see cref="SetCrossingShare">share</see>, and another's once this node left
    /// it to its owner for <c>crossingWait</c>.
    /// </summary>
    public int Pick(int peer, Bitfield peerPieces, Span<BlockRequest> destination, bool origin = false, bool remote = false)
    {
        var picked = 0;
        if (remote && !origin && _crossingShare is not null)
        {
            _now = Math.Max(1, _time.GetTimestamp());
        }

        // 1. The priority window (the reader's next missing pieces), in order.
        var missing = 0;
        for (var piece = _priorityCount > 0 ? _have.FirstClear(_priorityFirst) : -1;
            piece >= 0 && missing < _priorityCount && picked < destination.Length;
            piece = _have.FirstClear(piece + 1))
        {
            missing++;
            if (peerPieces[piece] && IsWanted(piece) && !Excluded(piece, origin, remote))
            {
                picked += TakeOpenBlocks(GetOrStart(piece, peer), peer, destination[picked..]);
            }
        }

        // 2. Pieces already started.
        for (var i = 0; i < _started.Count && picked < destination.Length; i++)
        {
            var progress = _started[i];
            if (progress.OpenCount > 0 && peerPieces[progress.Index] && IsWanted(progress.Index) && !Excluded(progress.Index, origin, remote))
            {
                picked += TakeOpenBlocks(progress, peer, destination[picked..]);
            }
        }

        // 3. New pieces, rarest first.
        while (picked < destination.Length)
        {
            var piece = PickRarestUnstarted(peerPieces, origin, remote);
            if (piece < 0)
            {
                break;
            }

            picked += TakeOpenBlocks(GetOrStart(piece, peer), peer, destination[picked..]);
        }

        // 4. Endgame: everything is asked of someone; ask this peer too.
        if (picked == 0 && !origin && IsEndgame)
        {
            picked = PickEndgame(peer, peerPieces, destination, remote);
        }

        return picked;
    }

    /// <summary>
    /// Records a block's arrival. <paramref name="cancelFrom"/> receives the other peers that were asked for
    /// the same block (endgame), so they can be sent <c>cancel</c>.
    /// </summary>
    public BlockReceipt OnBlockReceived(int peer, int piece, int offset, int length, List<int>? cancelFrom = null)
    {
        if ((uint)piece >= (uint)PieceCount || _have[piece] || !_inProgress.TryGetValue(piece, out var progress)
            || offset % _blockSize != 0)
        {
            return BlockReceipt.Unexpected;
        }

        var block = offset / _blockSize;
        if (block >= progress.BlockCount || length != BlockLength(piece, block) || progress.Received[block]
            || !progress.IsRequestedBy(block, peer))
        {
            return BlockReceipt.Unexpected;
        }

        progress.Received[block] = true;
        progress.ReceivedCount++;
        if (!progress.Contributors.Contains(peer))
        {
            progress.Contributors.Add(peer);
        }

        if (cancelFrom is not null)
        {
            if (progress.Requester[block] != peer)
            {
                cancelFrom.Add(progress.Requester[block]);
            }

            foreach (var (b, p) in progress.ExtraRequesters)
            {
                if (b == block && p != peer)
                {
                    cancelFrom.Add(p);
                }
            }
        }

        if (progress.ExtraRequesters.Count > 0)
        {
            RemoveExtraRequesters(progress, block);
        }

        return progress.ReceivedCount == progress.BlockCount ? BlockReceipt.PieceComplete : BlockReceipt.Accepted;
    }

    /// <summary>The piece hashed right: it is had, and no longer picked.</summary>
    public void OnPieceVerified(int piece) => MarkHave(piece);

    /// <summary>
    /// The piece hashed wrong: its blocks are open again. Returns the peer to blame when the bytes came from
    /// one peer only; otherwise -1, and the next attempt is fetched from a single peer so the liar shows.
    /// </summary>
    public int OnPieceFailed(int piece)
    {
        if (!_inProgress.TryGetValue(piece, out var progress))
        {
            return PieceProgress.NoPeer;
        }

        var culprit = progress.Contributors.Count == 1 ? progress.Contributors[0] : PieceProgress.NoPeer;
        _openBlocks += progress.BlockCount - progress.OpenCount;
        progress.Reset();
        progress.Exclusive = culprit == PieceProgress.NoPeer;
        return culprit;
    }

    /// <summary>A peer is gone (or snubbed us): every block asked of it and not received is open again.</summary>
    public void Release(int peer)
    {
        foreach (var progress in _started)
        {
            progress.ExtraRequesters.RemoveAll(e => e.Peer == peer);
            for (var block = 0; block < progress.BlockCount; block++)
            {
                if (progress.Requester[block] == peer && !progress.Received[block])
                {
                    ReopenOrPromote(progress, block);
                }
            }

            if (progress.Owner == peer)
            {
                progress.Owner = PieceProgress.NoPeer;
            }
        }
    }

    /// <summary>One block asked of a peer will not come from it (choked, rejected): open it again.</summary>
    public void Release(int peer, BlockRequest request)
    {
        if (!_inProgress.TryGetValue(request.Piece, out var progress) || request.Offset % _blockSize != 0)
        {
            return;
        }

        var block = request.Offset / _blockSize;
        if (block >= progress.BlockCount || progress.Received[block])
        {
            return;
        }

        if (progress.Requester[block] == peer)
        {
            ReopenOrPromote(progress, block);
        }
        else
        {
            progress.ExtraRequesters.Remove((block, peer));
        }
    }

    private static void RemoveExtraRequesters(PieceProgress progress, int block)
    {
        var extra = progress.ExtraRequesters;
        for (var i = extra.Count - 1; i >= 0; i--)
        {
            if (extra[i].Block == block)
            {
                extra.RemoveAt(i);
            }
        }
    }

    private void ReopenOrPromote(PieceProgress progress, int block)
    {
        var extra = progress.ExtraRequesters.FindIndex(e => e.Block == block);
        if (extra >= 0)
        {
            progress.Requester[block] = progress.ExtraRequesters[extra].Peer;
            progress.ExtraRequesters.RemoveAt(extra);
            return;
        }

        progress.Requester[block] = PieceProgress.NoPeer;
        progress.OpenCount++;
        _openBlocks++;
    }

    private PieceProgress GetOrStart(int piece, int peer)
    {
        if (!_inProgress.TryGetValue(piece, out var progress))
        {
            progress = new PieceProgress(piece, BlockCount(piece));
            _inProgress.Add(piece, progress);
            _started.Add(progress);
            _startedPieces.Set(piece);
        }

        if (progress.Exclusive && progress.Owner == PieceProgress.NoPeer)
        {
            progress.Owner = peer;
        }

        return progress;
    }

    private int TakeOpenBlocks(PieceProgress progress, int peer, Span<BlockRequest> destination)
    {
        if (progress.Exclusive && progress.Owner != peer)
        {
            if (progress.Owner != PieceProgress.NoPeer)
            {
                return 0;
            }

            progress.Owner = peer;
        }

        var taken = 0;
        for (var block = 0; block < progress.BlockCount && taken < destination.Length && progress.OpenCount > 0; block++)
        {
            if (progress.Requester[block] == PieceProgress.NoPeer && !progress.Received[block])
            {
                progress.Requester[block] = peer;
                progress.OpenCount--;
                _openBlocks--;
                destination[taken++] = new BlockRequest(progress.Index, block * _blockSize, BlockLength(progress.Index, block));
            }
        }

        return taken;
    }

    // Called for every pipeline top-up, so it scans a word (64 pieces) at a time: only pieces the peer has and
    // this node neither has nor started are looked at, in ascending order.
    // What an origin (every peer's last resort) or a remote peer (when a local one serves the piece) is not asked for.
    private bool Excluded(int piece, bool origin, bool remote) =>
        (origin && IsHeldByPeer(piece)) || (remote && (IsHeldLocally(piece) || (!origin && HeldBackForOwner(piece, _now))));

    // Another's crossing share, left to its owner while the owner showed progress on it within crossingWait. Not while
    // this node fetches only some pieces (byte ranges): the share assumes every local node fetches the whole blob, and a
    // have for a piece only this node wants may never come.
    private bool HeldBackForOwner(int piece, long now)
    {
        if (_wanted is not null || _crossingShare is not { } share)
        {
            return false;
        }

        var owner = share.OwnerOf(piece);
        return owner != CrossingShare.Self && _time.GetElapsedTime(_ownerProgress[owner], now) < _crossingWait;
    }

    private int PickRarestUnstarted(Bitfield peerPieces, bool origin, bool remote)
    {
        var best = -1;
        var bestAvailability = int.MaxValue;
        var ties = 0;
        var peer = peerPieces.Words;
        var have = _have.Words;
        var started = _startedPieces.Words;
        var wanted = _wanted is { } set ? set.Words : default;
        for (var w = 0; w < have.Length; w++)
        {
            var candidates = peer[w] & ~have[w] & ~started[w] & (wanted.IsEmpty ? ~0UL : wanted[w]);
            while (candidates != 0)
            {
                var bit = BitOperations.LeadingZeroCount(candidates);
                candidates &= ~(1UL << (63 - bit));
                var i = (w * 64) + bit;
                if (Excluded(i, origin, remote))
                {
                    continue;
                }

                var availability = _availability[i];
                if (availability < bestAvailability)
                {
                    best = i;
                    bestAvailability = availability;
                    ties = 1;
                }
                else if (availability == bestAvailability && _random.Next(++ties) == 0)
                {
                    // Reservoir sampling: each of the equally rare pieces ends up chosen with equal odds.
                    best = i;
                }
            }
        }

        return best;
    }

    private int PickEndgame(int peer, Bitfield peerPieces, Span<BlockRequest> destination, bool remote)
    {
        var picked = 0;
        foreach (var progress in _started)
        {
            if (!peerPieces[progress.Index] || !IsWanted(progress.Index) || (progress.Exclusive && progress.Owner != peer) || (remote && IsHeldLocally(progress.Index)))
            {
                continue;
            }

            for (var block = 0; block < progress.BlockCount && picked < destination.Length; block++)
            {
                if (progress.Received[block] || progress.IsRequestedBy(block, peer) || CountRequesters(progress, block) >= MaxRequestersPerBlock)
                {
                    continue;
                }

                progress.ExtraRequesters.Add((block, peer));
                destination[picked++] = new BlockRequest(progress.Index, block * _blockSize, BlockLength(progress.Index, block));
            }

            if (picked == destination.Length)
            {
                break;
            }
        }

        return picked;
    }

    private static int CountRequesters(PieceProgress progress, int block)
    {
        var count = progress.Requester[block] == PieceProgress.NoPeer ? 0 : 1;
        foreach (var (b, _) in progress.ExtraRequesters)
        {
            if (b == block)
            {
                count++;
            }
        }

        return count;
    }
}

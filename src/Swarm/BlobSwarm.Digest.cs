using System.Security.Cryptography;
using P2PRegistry.Core.Content;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Swarm;

// The blob's SHA-256 is advanced over the verified prefix while the download runs, from the piece buffers in memory:
// the next piece in order as it is stored, the ones that verified out of order from the store's hot pieces (the hash
// holds a reader window there; a piece gone from memory is read back), so the check at completion has little or
// nothing left to do. A streaming reader's priority window makes the prefix advance steadily.
internal sealed partial class BlobSwarm
{
    private readonly Lock _digestLock = new();
    private IncrementalHash? _digest;
    private int _digestNext;
    private int _digestCatchingUp;

    // The hash's place as a reader of the store: the pieces from _digestNext on that verified out of order stay in
    // memory (within the store's reader window) until they are hashed, instead of being read back from the disk.
    private int _digestHold;

    /// <summary>
    /// After piece <paramref name="piece"/> was verified and written (its bytes still in
    /// <paramref name="buffer"/>): hashed at once when it is the next in order. Pieces that verified earlier
    /// out of order are hashed by a background catch-up (from memory while the store holds them, else read back),
    /// never on a session's receive loop. Skipped when the hash is busy: whatever is left is done at completion.
    /// </summary>
    private void AdvanceDigest(int piece, PieceBuffer buffer)
    {
        if (_digest is null || !_digestLock.TryEnter())
        {
            return;
        }

        bool catchUp;
        try
        {
            if (piece == _digestNext && _digest is not null)
            {
                _digest.AppendData(buffer.Slice(MetaInfo.GetPieceSize(piece)));
                _digestNext++;
                Store.MoveHold(_digestHold, _digestNext);
            }

            catchUp = _digestNext < MetaInfo.PieceCount && Store.HasPiece(_digestNext);
        }
        finally
        {
            _digestLock.Exit();
        }

        if (catchUp && Interlocked.CompareExchange(ref _digestCatchingUp, 1, 0) == 0)
        {
            _ = Task.Run(CatchUpDigest);
        }
    }

    private void CatchUpDigest()
    {
        try
        {
            lock (_digestLock)
            {
                AdvanceDigestLocked();
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // The final check reads again and reports the failure.
        }
        finally
        {
            Volatile.Write(ref _digestCatchingUp, 0);
        }
    }

    private void AdvanceDigestLocked()
    {
        PieceBuffer? buffer = null;
        try
        {
            while (_digest is not null && _digestNext < MetaInfo.PieceCount && Store.HasPiece(_digestNext))
            {
                if (!Store.TryAppendHot(_digestNext, _digest))
                {
                    var size = MetaInfo.GetPieceSize(_digestNext);
                    buffer ??= PieceBufferPool.Shared.Rent(MetaInfo.PieceLength);
                    if (!Store.ReadExactly(_digestNext, 0, buffer.Slice(size), keep: false))
                    {
                        return;
                    }

                    _digest.AppendData(buffer.Slice(size));
                }

                _digestNext++;
                Store.MoveHold(_digestHold, _digestNext);
            }
        }
        finally
        {
            if (buffer is not null)
            {
                PieceBufferPool.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Finishes the running hash; null when the swarm was stopped meanwhile.</summary>
    private bool? DigestMatches()
    {
        lock (_digestLock)
        {
            if (_digest is null)
            {
                return null;
            }

            AdvanceDigestLocked();
            Store.ReleaseHold(_digestHold);
            _digestHold = 0;
            if (_digestNext != MetaInfo.PieceCount)
            {
                return false;
            }

            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            _digest.GetHashAndReset(hash);
            return Digest.FromSha256(hash) == MetaInfo.Digest;
        }
    }

    private void DisposeDigest()
    {
        lock (_digestLock)
        {
            _digest?.Dispose();
            _digest = null;
        }
    }
}

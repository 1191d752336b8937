using System.Security.Cryptography;
using P2PRegistry.Core.Content;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Swarm;

// The blob's SHA-256 is advanced over the verified prefix while the download runs (in order, reading back
// through the store — hot pieces or direct reads — the pieces that verified out of order), so the check at
// completion has little or nothing left to read. A streaming reader's priority window makes the prefix advance steadily.
internal sealed partial class BlobSwarm
{
    private readonly Lock _digestLock = new();
    private IncrementalHash? _digest;
    private int _digestNext;
    private int _digestCatchingUp;

    /// <summary>
    /// After piece <paramref name="piece"/> was verified and written (its bytes still in
    /// <paramref name="buffer"/>): hashed at once when it is the next in order. Pieces that verified earlier
    /// out of order are read back by a background catch-up, never on a session's receive loop. Skipped when
    /// the hash is busy: whatever is left is done at completion.
    /// </summary>
    private void AdvanceDigest(int piece, byte[] buffer)
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
                _digest.AppendData(buffer, 0, MetaInfo.GetPieceSize(piece));
                _digestNext++;
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
        var buffer = PieceBuffers.Rent(MetaInfo.PieceLength);
        try
        {
            lock (_digestLock)
            {
                AdvanceDigestLocked(-1, buffer);
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // The final check reads again and reports the failure.
        }
        finally
        {
            Volatile.Write(ref _digestCatchingUp, 0);
            PieceBuffers.Return(buffer);
        }
    }

    private void AdvanceDigestLocked(int heldPiece, byte[] buffer)
    {
        while (_digest is not null && _digestNext < MetaInfo.PieceCount)
        {
            var size = MetaInfo.GetPieceSize(_digestNext);
            if (_digestNext != heldPiece)
            {
                if (!Store.HasPiece(_digestNext) || buffer.Length < size || !Store.ReadExactly(_digestNext, 0, buffer.AsSpan(0, size), keep: false))
                {
                    return;
                }

                heldPiece = _digestNext;
            }

            _digest.AppendData(buffer, 0, size);
            _digestNext++;
        }
    }

    /// <summary>Finishes the running hash; null when the swarm was stopped meanwhile.</summary>
    private bool? DigestMatches()
    {
        var buffer = PieceBuffers.Rent(MetaInfo.PieceLength);
        try
        {
            lock (_digestLock)
            {
                if (_digest is null)
                {
                    return null;
                }

                AdvanceDigestLocked(-1, buffer);
                if (_digestNext != MetaInfo.PieceCount)
                {
                    return false;
                }

                Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
                _digest.GetHashAndReset(hash);
                return Digest.FromSha256(hash) == MetaInfo.Digest;
            }
        }
        finally
        {
            PieceBuffers.Return(buffer);
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

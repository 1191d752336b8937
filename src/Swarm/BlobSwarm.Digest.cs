using System.Security.Cryptography;
using P2PRegistry.Core.Content;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Swarm;

// The blob's SHA-256 is advanced over the verified prefix while the download runs, so the check at completion has
// little or nothing left to read. A piece is hashed from its own buffer when it is the next in order; a piece that
// verified ahead of the prefix is kept hot before it is marked verified, so the worker that fills the gap hashes it
// from memory. Only a piece evicted meanwhile (or every one without hot pieces) is read back from the disk, by a
// background catch-up. A streaming reader's priority window makes the prefix advance steadily.
internal sealed partial class BlobSwarm
{
    // Held per piece (one append, never a read), so whoever waits for it waits at most one piece's hash.
    private readonly Lock _digestLock = new();
    private IncrementalHash? _digest;
    private int _digestNext;
    private int _digestCatchingUp;

    /// <summary>True on a session's receive loop while it stores a piece itself (the verifier was full): nothing there waits for the digest.</summary>
    [ThreadStatic]
    private static bool t_storingOnReceiveLoop;

    /// <summary>Pieces hashed into the running SHA-256 so far (the verified prefix it covers).</summary>
    internal int DigestedPieces => Volatile.Read(ref _digestNext);

    /// <summary>
    /// Piece <paramref name="piece"/> was verified and written, and its bytes are still in <paramref name="buffer"/>
    /// (before the store keeps it): hashed at once when it is the next in order. A verifier worker waits its turn
    /// for the hash (at most one piece's append); a receive loop does not, and leaves the piece to the catch-up.
    /// </summary>
    private void AdvanceDigest(int piece, byte[] buffer)
    {
        if (_digest is null || piece != Volatile.Read(ref _digestNext))
        {
            return;
        }

        if (t_storingOnReceiveLoop)
        {
            if (!_digestLock.TryEnter())
            {
                return;
            }
        }
        else
        {
            _digestLock.Enter();
        }

        try
        {
            if (piece == _digestNext && _digest is not null)
            {
                _digest.AppendData(buffer, 0, MetaInfo.GetPieceSize(piece));
                Volatile.Write(ref _digestNext, piece + 1);
            }
        }
        finally
        {
            _digestLock.Exit();
        }
    }

    /// <summary>
    /// After a piece was kept and marked verified: the verified pieces next in order are hashed, on a verifier worker
    /// at once from the hot pieces, and whatever is left (evicted pieces, or a receive loop's turn) in the background.
    /// </summary>
    private void CatchUpDigest()
    {
        if (_digest is null || !NextPieceToDigestIsVerified())
        {
            return;
        }

        if (!t_storingOnReceiveLoop && CatchUpDigest(fromDisk: false))
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _digestCatchingUp, 1, 0) == 0)
        {
            _ = Task.Run(CatchUpDigestInBackground);
        }
    }

    private void CatchUpDigestInBackground()
    {
        try
        {
            // Again only after it stopped at a piece not verified yet that was marked verified meanwhile (its
            // worker saw the flag still set), so every round advances the digest.
            bool again;
            do
            {
                var stoppedAtMissing = CatchUpDigest(fromDisk: true);
                Volatile.Write(ref _digestCatchingUp, 0);
                again = stoppedAtMissing && NextPieceToDigestIsVerified() && Interlocked.CompareExchange(ref _digestCatchingUp, 1, 0) == 0;
            }
            while (again);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            // The final check reads again and reports the failure.
            Volatile.Write(ref _digestCatchingUp, 0);
        }
    }

    private bool NextPieceToDigestIsVerified()
    {
        var next = Volatile.Read(ref _digestNext);
        return next < MetaInfo.PieceCount && Store.HasPiece(next);
    }

    /// <summary>
    /// Hashes verified pieces in order, each read outside the lock (from the hot pieces; from the disk too when
    /// <paramref name="fromDisk"/>) and appended under it. True when it stopped at a piece not verified yet (or the
    /// end); false at a piece it could not read, or when the swarm was stopped.
    /// </summary>
    private bool CatchUpDigest(bool fromDisk)
    {
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                var next = Volatile.Read(ref _digestNext);
                if (next >= MetaInfo.PieceCount || !Store.HasPiece(next))
                {
                    return true;
                }

                var size = MetaInfo.GetPieceSize(next);
                buffer ??= PieceBuffers.Rent(MetaInfo.PieceLength);
                var read = fromDisk
                    ? Store.ReadExactly(next, 0, buffer.AsSpan(0, size), keep: false)
                    : Store.TryCopyHot(next, buffer.AsSpan(0, size));
                if (!read)
                {
                    return false;
                }

                lock (_digestLock)
                {
                    if (_digest is null)
                    {
                        return false;
                    }

                    // Another thread may have hashed it meanwhile: then this read is dropped.
                    if (_digestNext == next)
                    {
                        _digest.AppendData(buffer, 0, size);
                        Volatile.Write(ref _digestNext, next + 1);
                    }
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                PieceBuffers.Return(buffer);
            }
        }
    }

    /// <summary>Finishes the running hash; null when the swarm was stopped meanwhile.</summary>
    private bool? DigestMatches()
    {
        // Under the lock (which the catch-up takes again, per piece): nothing else appends while what is left is read.
        lock (_digestLock)
        {
            if (_digest is null)
            {
                return null;
            }

            CatchUpDigest(fromDisk: true);
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

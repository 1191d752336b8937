using System.Buffers;
using System.Security.Cryptography;
using P2PRegistry.Core.Content;
using P2PRegistry.Swarm.PiecePicking;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

internal sealed partial class BlobSwarm
{
    /// <summary>
    /// A peer that sends this many blocks in a row that nobody asked it for (or that were cancelled) is closed: after
    /// our cancels a well-behaved peer sends at most what was already on its way (its pipeline, 512 blocks at most).
    /// </summary>
    internal const int MaxUnrequestedBlocks = 1024;

    /// <summary>
    /// A block arrived: only a block asked of this peer counts (as progress for its stall clock, and for the picker);
    /// its bytes are copied into the piece being reassembled (a pooled buffer shared by every peer contributing to the
    /// piece), endgame duplicates are cancelled, and a completed piece is verified. Returns the bytes accepted.
    /// </summary>
    public int OnBlock(PeerSession session, int piece, int begin, in ReadOnlySequence<byte> block)
    {
        var length = (int)block.Length;
        byte[]? completed = null;
        lock (_sync)
        {
            if (!_peers.TryGetValue(session.Id, out var peer))
            {
                return 0;
            }

            var requested = peer.Outstanding.Remove(new BlockRequest(piece, begin, length));
            var receipt = !requested || Picker is null || _disposed
                ? BlockReceipt.Unexpected
                : Picker.OnBlockReceived(peer.Key, piece, begin, length, _cancelScratch);
            if (requested)
            {
                var now = Context.Time.GetTimestamp();
                peer.LastBlockAt = now;
                peer.LastUsefulAt = now;
                peer.UnrequestedBlocks = 0;
                if (peer.SnubbedUntil != 0)
                {
                    peer.SnubbedUntil = 0;
                    SyncServing(peer);
                }
            }
            else if (++peer.UnrequestedBlocks > MaxUnrequestedBlocks)
            {
                throw new Core.Wire.PeerProtocolException($"More than {MaxUnrequestedBlocks} blocks in a row that were not asked for.");
            }

            if (receipt == BlockReceipt.Unexpected)
            {
                _cancelScratch.Clear();
                Statistics.AddWasted(length);
                FillRequests(peer);
                return 0;
            }

            peer.BytesSinceTick += length;
            if (!_assembly.TryGetValue(piece, out var buffer))
            {
                buffer = PieceBuffers.Rent(MetaInfo.GetPieceSize(piece));
                _assembly.Add(piece, buffer);
            }

            block.CopyTo(buffer.AsSpan(begin, length));
            foreach (var key in _cancelScratch)
            {
                if (_peers.TryGetValue(key, out var other))
                {
                    Cancel(other, new BlockRequest(piece, begin, length));
                }
            }

            _cancelScratch.Clear();
            if (receipt == BlockReceipt.PieceComplete)
            {
                _assembly.Remove(piece);
                completed = buffer;
            }

            FillRequests(peer);
        }

        Statistics.AddDownloaded(session.RemotePeerId, length, session.IsOrigin);
        Context.Metrics.BytesDownloaded(length, session.IsOrigin);
        if (completed is not null)
        {
            CompletePiece(piece, completed);
        }

        return length;
    }

    /// <summary>
    /// A completed piece goes to the <see cref="PieceVerifier"/>: its SHA-1, the disk write and the blob's running
    /// SHA-256 run on the thread pool, because this receive loop may run on the socket's polling thread (inline socket
    /// completions), which must neither hash nor wait on a disk while the socket has more to read. At most
    /// <see cref="MaxQueuedPieces"/> are pending per swarm; past that the receive loop checks and writes itself, so a
    /// disk or CPU slower than the network slows the peers over TCP instead of piling up piece buffers. A liar is
    /// stopped being asked as soon as its piece's check fails.
    /// </summary>
    private void CompletePiece(int piece, byte[] buffer)
    {
        var verifier = _verifier!;
        if (!verifier.TryEnqueue(piece, buffer))
        {
            t_storingOnReceiveLoop = true;
            try
            {
                verifier.CheckNow(piece, buffer);
            }
            finally
            {
                t_storingOnReceiveLoop = false;
            }
        }
    }

    void IPieceVerifierOwner.OnPieceChecked(int piece, byte[] buffer, bool matches)
    {
        if (matches)
        {
            StorePieceAndReturn(piece, buffer);
            return;
        }

        PieceBuffers.Return(buffer);
        try
        {
            OnPieceFailed(piece);
        }
        catch (ObjectDisposedException)
        {
            // Stopped meanwhile: nobody is asked for anything any more.
        }
    }

    void IPieceVerifierOwner.OnPieceDropped(int piece, byte[] buffer) => PieceBuffers.Return(buffer);

    /// <summary>Never throws: on the thread pool an exception would end the process.</summary>
    private void StorePieceAndReturn(int piece, byte[] buffer)
    {
        var kept = false;
        try
        {
            kept = WritePiece(piece, buffer);
            if (kept)
            {
                RecordPiece(piece);
            }
        }
        catch (ObjectDisposedException)
        {
            // The swarm was stopped while the piece waited its turn.
        }
        catch (Exception exception)
        {
            Fail("storing a verified piece failed", exception);
        }
        finally
        {
            if (!kept)
            {
                PieceBuffers.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Writes a verified piece, hashes it into the blob's digest when it is the next in order, and hands its buffer to
    /// the store (a hot piece); true when the store took the buffer.
    /// </summary>
    private bool WritePiece(int piece, byte[] buffer)
    {
        try
        {
            Store.Write(piece, 0, buffer.AsSpan(0, MetaInfo.GetPieceSize(piece)));
        }
        catch (IOException exception)
        {
            Fail("the piece could not be written", exception);
            return false;
        }

        AdvanceDigest(piece, buffer);

        // Hashed: from here the buffer may be evicted and reused at any moment. Kept before it is marked verified,
        // so the digest's catch-up, which follows the verified pieces, finds it hot.
        Store.Keep(piece, buffer);
        return true;
    }

    /// <summary>Records a verified piece (written and kept already): have, waiters, the digest's catch-up, completion.</summary>
    private void RecordPiece(int piece)
    {
        bool complete;
        lock (_sync)
        {
            if (_disposed || Picker is null)
            {
                return;
            }

            Picker.OnPieceVerified(piece);
            Store.MarkVerified(piece);
            BroadcastHaveLocked(piece);
            if (_pieceWaiters.Remove(piece, out var waiter))
            {
                waiter.TrySetResult();
            }

            complete = Picker.IsComplete;
        }

        Statistics.PieceVerified();
        Context.Metrics.PieceVerified();
        CatchUpDigest();
        FlushIfDue();
        if (complete)
        {
            _ = Task.Run(FinishDownload);
        }
    }

    /// <summary>
    /// A batch of verified pieces is made durable (fsync, then the resume file) on the thread that stored the last of
    /// them, outside the swarm's lock; another thread's flush running already covers it.
    /// </summary>
    private void FlushIfDue()
    {
        if (!Store.FlushDue)
        {
            return;
        }

        try
        {
            Store.Flush();
        }
        catch (ObjectDisposedException)
        {
            // Stopped meanwhile: closing flushed.
        }
        catch (IOException exception)
        {
            // The record keeps its earlier pieces; the next flush (or the close) tries again.
            SwarmLog.FlushFailed(Context.Logger, MetaInfo.Digest.Value, exception.Message);
        }
    }

    private void OnPieceFailed(int piece)
    {
        PeerSession? liar;
        DepartedPeer? gone = null;
        lock (_sync)
        {
            if (_disposed || Picker is null)
            {
                return;
            }

            var culprit = Picker.OnPieceFailed(piece);
            liar = culprit >= 0 ? _peers.GetValueOrDefault(culprit)?.Session : null;
            if (liar is null && culprit >= 0 && _departed.TryGetValue(culprit, out var departed))
            {
                // The check runs after the receive loop went on: a liar that hung up right after its last block is
                // blamed by what was observed of it while it was connected.
                gone = departed;
            }

            FillAllLocked();
        }

        Context.Metrics.PieceFailed();
        if (liar is null && gone is null)
        {
            Statistics.PieceFailed();
            SwarmLog.PieceFailedSeveralContributors(Context.Logger, piece, InfoHash);
            return;
        }

        // Blamed by what this node observed (the address it reached, and the port it dialled or the peer advertised
        // on that address), never by the id the peer claimed, and only in this swarm: an origin with one bad sector
        // is still asked for every other blob.
        var blamed = liar is not null ? DepartedPeer.Of(liar) : gone!;
        SwarmLog.PeerBlacklisted(Context.Logger, piece, InfoHash, blamed.PeerId, blamed.EndPoint);
        if (blamed.Address is { } address)
        {
            _blacklist.Add(address, blamed.Port);
        }

        Context.Metrics.PeerBlacklisted();

        // Counted once the liar is blacklisted: whoever sees the failure counted sees its consequence too (the check
        // runs on the thread pool, after the receive loop went on).
        Statistics.PieceFailed();
        liar?.Close("sent a piece that failed its SHA-1");
    }

    /// <summary>Starts the final check at once when a resumed download already holds every piece.</summary>
    public void FinishIfAllPiecesVerified()
    {
        if (Picker is { IsComplete: true } && IsDownloading)
        {
            _ = Task.Run(FinishDownload);
        }
    }

    /// <summary>Every piece is verified: the whole blob must hash to its digest before it counts as complete.</summary>
    private void FinishDownload()
    {
        try
        {
            var matches = DigestMatches();
            if (matches is null)
            {
                return;
            }

            if (matches == false)
            {
                Fail($"the blob does not hash to {MetaInfo.Digest}", null);
                return;
            }

            Store.MarkComplete();
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException)
        {
            Fail("the blob could not be read back", exception);
            return;
        }

        Context.Metrics.DownloadCompleted();
        SwarmLog.DownloadCompleted(Context.Logger, MetaInfo.Digest.Value, MetaInfo.Length, Context.Time.GetElapsedTime(_startedAt));
        List<PeerSession> seeds = [];
        lock (_sync)
        {
            _completion.TrySetResult();
            foreach (var peer in _peers.Values)
            {
                OnDownloadComplete(peer);
                if (peer.Pieces.AllSet)
                {
                    seeds.Add(peer.Session);
                }
            }

            ReleaseHotPiecesIfIdleLocked();
        }

        // Two complete peers have nothing to trade.
        foreach (var seed in seeds)
        {
            seed.Close("both sides complete");
        }

        Finished?.Invoke(this);
    }

    private void Fail(string reason, Exception? exception)
    {
        // A stopped swarm keeps its partial file: the next start resumes it. Only the first failure counts.
        var failure = new InvalidDataException($"Download of {MetaInfo.Digest} failed: {reason}.", exception);
        if (Volatile.Read(ref _disposed) || _completion.Task.IsCompleted || Interlocked.CompareExchange(ref _failure, failure, null) is not null)
        {
            return;
        }

        SwarmLog.DownloadFailed(Context.Logger, MetaInfo.Digest.Value, reason, exception);
        Context.Metrics.DownloadFailed();
        foreach (var session in SnapshotSessions())
        {
            session.Close("download failed");
        }

        // The file goes before anyone hears of the failure, so no reader ever finds it.
        try
        {
            Store.Delete();
        }
        catch (Exception deleteFailure) when (deleteFailure is IOException or UnauthorizedAccessException)
        {
            // Best effort: a file we cannot delete is still never reported complete.
        }

        // The engine forgets the swarm before anyone hears of the failure: a retry right after starts afresh.
        try
        {
            Finished?.Invoke(this);
        }
        finally
        {
            _completion.TrySetException(failure);
            FailWaiters(failure);
        }
    }
}

using System.Buffers;
using Microsoft.Net.Http.Headers;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Agent.Tracking;
using P2PRegistry.Core.Content;
using P2PRegistry.Distribution;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Pieces;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Agent.Registry;

internal sealed partial class MirrorHandler
{
    private const int StreamChunk = 1024 * 1024;

    // How far ahead of a streaming reader the complete file is asked into the page cache (ReadAhead), in one go once
    // half of it was sent: the download wrote it past the page cache, and a reader that fell behind reads it back.
    private const long ReadAheadBytes = 32L * 1024 * 1024;
    private static readonly Digest EmptyDigest = Digest.Compute([]);

    /// <summary>
    /// HEAD/GET a blob with one byte range: from the cache when it is there (checked piece by piece first when it was
    /// not verified since this start, and fetched again when it is corrupt), else streamed from the swarm download as
    /// its pieces verify. A miss with no source is a 404 within <c>Agent:MissTimeout</c>, so containerd moves to its next
    /// host; a source that exists but is slow is waited for, within <c>Agent:SourceTimeout</c> (<see cref="MissRule"/>).
    /// </summary>
    private async Task GetBlobAsync(HttpContext context, RegistryPath path, bool head)
    {
        var digest = ParseDigest(path.Reference);
        var ns = Namespace(context);
        using (var lease = _cache.TryAcquire(digest))
        {
            if (lease is not null && !lease.IsVerified)
            {
                if (await SendUnverifiedAsync(context, lease, head).ConfigureAwait(false))
                {
                    _metrics.CacheHit();
                    return;
                }

                // Corrupt, found before any byte was sent: it left the cache; fetched again below like any miss.
            }
            else if (lease is not null)
            {
                _metrics.CacheHit();
                var (offset, count) = RegistryResponses.WriteBlobHeaders(context, digest, lease.Length);
                if (!head && count > 0)
                {
                    await BlobSender.SendAsync(context, lease.Path, offset, count, _metrics.BytesServed).ConfigureAwait(false);
                }

                return;
            }
        }

        if (head)
        {
            await HeadMissAsync(context, digest, ns, UpstreamRepository(path.Name, ns)).ConfigureAwait(false);
            return;
        }

        _metrics.CacheMiss();
        var requestedAt = _time.GetTimestamp();
        var fetch = JoinFetch(context, digest, ns, UpstreamRepository(path.Name, ns));
        try
        {
            var download = await WaitStartedAsync(fetch, requestedAt, context.RequestAborted).ConfigureAwait(false);

            // The wait for a first source starts with the download: creating its files may itself have taken longer
            // than the miss timeout, and its peers connect only from then on.
            var sourceClock = _time.GetTimestamp();
            var length = download.Length;
            if (length == 0 && digest != EmptyDigest)
            {
                // Nothing would be left to check: an empty body must be the empty blob.
                throw FastMiss(digest, ns, "the MetaInfo claims an empty blob for a digest that is not the empty one");
            }

            var (offset, count) = RegistryResponses.WriteBlobHeaders(context, digest, length);
            if (count <= 0)
            {
                return;
            }

            // A part of the blob is served as its pieces verify; the whole blob only once it hashed to its digest.
            var whole = offset == 0 && count == length;
            if (download is SwarmBlobDownload swarm)
            {
                WantPieces(fetch, swarm, offset, count, whole);
                var handle = swarm.Handle;
                var firstPiece = (int)(offset / handle.MetaInfo.PieceLength);
                handle.Prioritize(firstPiece, _options.StreamPriorityPieces);
                await WaitFirstSourceAsync(context, fetch, handle, firstPiece, sourceClock).ConfigureAwait(false);
            }

            await StreamAsync(context, fetch, download, offset, count, pieceVerified: !whole && download is SwarmBlobDownload).ConfigureAwait(false);
        }
        finally
        {
            _fetcher.Leave(fetch);
        }
    }

    /// <summary>
    /// HEAD on a miss, without starting a download: the length of a download in progress, else from the MetaInfo,
    /// else — for a blob no origin holds yet — from the origin, which asks its upstream. A HEAD says what a GET would.
    /// </summary>
    private async Task HeadMissAsync(HttpContext context, Digest digest, string ns, string repository)
    {
        if (_fetcher.Find(digest)?.Started is { IsCompletedSuccessfully: true } started)
        {
            RegistryResponses.WriteBlobHeaders(context, digest, started.Result.Length);
            return;
        }

        // The miss timeout first; past it, the patient budget if a tracker is reachable by then (the MetaInfo request may
        // have been its first answer), as a GET waits.
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var startedAt = _time.GetTimestamp();
        var lookup = LengthAsync(digest, ns, repository, abandon.Token);
        string reason;
        try
        {
            if (!await FinishedWithinAsync(lookup, startedAt, _missRule.MissTimeout, context.RequestAborted).ConfigureAwait(false)
                && !await FinishedWithinAsync(lookup, startedAt, _missRule.WhileResolving(_trackers.AnyReachable).Limit, context.RequestAborted).ConfigureAwait(false))
            {
                await abandon.CancelAsync().ConfigureAwait(false);
                reason = "the tracker or the origin did not answer in time";
            }
            else if (await lookup.ConfigureAwait(false) is { } known)
            {
                RegistryResponses.WriteBlobHeaders(context, digest, known);
                return;
            }
            else
            {
                reason = "no origin holds this blob or can pull it through";
            }
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            reason = "the tracker or the origin did not answer in time";
        }
        catch (MetaInfoUnavailableException ex)
        {
            reason = ex.Message;
        }
        catch (HttpRequestException ex)
        {
            reason = $"the origin is unreachable: {ex.Message}";
        }

        throw FastMiss(digest, ns, reason);
    }

    /// <summary>The blob's length from its MetaInfo, else from the origin (which asks its upstream); null when nobody has it.</summary>
    private async Task<long?> LengthAsync(Digest digest, string ns, string repository, CancellationToken cancellationToken) =>
        (await _metaInfos.GetMetaInfoAsync(digest, ns, cancellationToken).ConfigureAwait(false))?.Length
        ?? await _originBlobs.GetLengthAsync(repository, digest.Value, ns, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Waits until the fetch knows where the bytes come from (<see cref="MissRule.WhileResolving"/>: the miss timeout,
    /// longer while a tracker is reachable — its answer is on the way), then for the download to start (an origin pulling
    /// the blob through from upstream may take longer to answer; the fetch bounds that).
    /// </summary>
    private async Task<IBlobDownload> WaitStartedAsync(BlobFetch fetch, long startedAt, CancellationToken cancellationToken)
    {
        string reason;
        try
        {
            // Reachability is asked once the miss timeout is over: the MetaInfo request may have been the tracker's first answer.
            if (!await ResolvedWithinAsync(fetch, startedAt, _missRule.MissTimeout, cancellationToken).ConfigureAwait(false))
            {
                var budget = _missRule.WhileResolving(_trackers.AnyReachable);
                if (!await ResolvedWithinAsync(fetch, startedAt, budget.Limit, cancellationToken).ConfigureAwait(false))
                {
                    throw FastMiss(fetch.Digest, fetch.Namespace, budget.Reason);
                }
            }

            return await fetch.Started.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (BlobUnavailableException ex)
        {
            reason = ex.Message;
        }

        throw FastMiss(fetch.Digest, fetch.Namespace, reason);
    }

    /// <summary>Whether the fetch resolved before <paramref name="limit"/> (counted from <paramref name="startedAt"/>); throws if it failed.</summary>
    private Task<bool> ResolvedWithinAsync(BlobFetch fetch, long startedAt, TimeSpan limit, CancellationToken cancellationToken) =>
        FinishedWithinAsync(fetch.Resolved, startedAt, limit, cancellationToken);

    /// <summary>Whether <paramref name="task"/> finished before <paramref name="limit"/> (counted from <paramref name="startedAt"/>); throws if it failed.</summary>
    private async Task<bool> FinishedWithinAsync(Task task, long startedAt, TimeSpan limit, CancellationToken cancellationToken)
    {
        var remaining = limit - _time.GetElapsedTime(startedAt);
        try
        {
            await task.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// A source for the first piece this reader needs must show up: a connected peer, or the piece itself, within the
    /// budget <see cref="MissRule.WhileAwaitingSource"/> gives (asked again as the announce answers). Otherwise 404, and a
    /// download nobody else reads is dropped (its pieces stay).
    /// </summary>
    private async Task WaitFirstSourceAsync(HttpContext context, BlobFetch fetch, DownloadHandle handle, int firstPiece, long startedAt)
    {
        var piece = handle.WaitForPieceAsync(firstPiece, context.RequestAborted);
        while (!piece.IsCompleted && handle.PeerCount == 0 && !handle.IsComplete)
        {
            var budget = _missRule.WhileAwaitingSource(_announces.PeersHandedOut(handle.InfoHash), _trackers.AnyReachable);
            if (_time.GetElapsedTime(startedAt) >= budget.Limit)
            {
                await _fetcher.AbandonIfIdleAsync(fetch, exceptReaders: 1).ConfigureAwait(false);
                throw FastMiss(fetch.Digest, fetch.Namespace, budget.Reason);
            }

            // A peer connection has no event to wait on; polling at a small fraction of the timeout is enough.
            await Task.WhenAny(piece, Task.Delay(TimeSpan.FromMilliseconds(20), _time, context.RequestAborted)).ConfigureAwait(false);
        }

        if (piece.IsFaulted)
        {
            throw FastMiss(fetch.Digest, fetch.Namespace, piece.Exception!.InnerException?.Message ?? "the download failed");
        }
    }

    /// <summary>
    /// Sends [offset, offset+count) as the download makes it sendable, in order, reading from the download file by
    /// its own handle (it stays valid when the file moves into the cache). The blob's final bytes are held back until
    /// the whole blob's sha256 has matched: the client never gets all the bytes of a blob that does not hash to its
    /// digest. A failure after the headers cuts the connection, so no client mistakes it for the end; so does a stall
    /// (no byte sent for <c>Agent:StreamStallTimeout</c>), so the client retries rather than waits on a source that stopped.
    /// <paramref name="pieceVerified"/>: a part of a swarm download (a <c>Range</c>), sent as each piece passes its SHA-1,
    /// without waiting for the rest of the blob.
    /// </summary>
    private async Task StreamAsync(HttpContext context, BlobFetch fetch, IBlobDownload download, long offset, long count, bool pieceVerified)
    {
        var end = offset + count;
        var cancellationToken = context.RequestAborted;
        Microsoft.Win32.SafeHandles.SafeFileHandle file;
        try
        {
            file = File.OpenHandle(download.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            // Moved into the cache between our lookups, or deleted because the download failed.
            try
            {
                await fetch.Cached.ConfigureAwait(false);
                file = File.OpenHandle(_cache.PathOf(fetch.Digest), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            }
            catch (Exception ex) when (ex is BlobUnavailableException or FileNotFoundException)
            {
                throw FastMiss(fetch.Digest, fetch.Namespace, ex.Message);
            }
        }

        var start = offset;
        var writer = context.Response.BodyWriter;
        var stall = new StreamStallWatchdog(_options.StreamStallTimeout, _time, cancellationToken, () => download.Stored);
        try
        {
            using (file)
            {
                var prioritizedUntil = -1L;
                var advisedUntil = offset;
                while (offset < end)
                {
                    if (offset >= prioritizedUntil && !download.IsComplete)
                    {
                        // This reader's own place: several readers at different offsets do not undo each other.
                        prioritizedUntil = download.Prioritize(offset);
                    }

                    var readable = download.IsComplete ? download.Length
                        : pieceVerified ? await ((SwarmBlobDownload)download).WaitVerifiedAsync(offset, stall.Token).ConfigureAwait(false)
                        : await download.WaitReadableAsync(offset, stall.Token).ConfigureAwait(false);
                    if (readable >= download.Length && !pieceVerified)
                    {
                        await download.Completion.WaitAsync(stall.Token).ConfigureAwait(false);
                    }

                    if (download.IsComplete && offset >= advisedUntil - (ReadAheadBytes / 2))
                    {
                        var from = Math.Max(offset, advisedUntil);
                        advisedUntil = Math.Min(end, offset + ReadAheadBytes);
                        ReadAhead.Advise(file, from, advisedUntil - from);
                    }

                    // Read straight into the response's pipe: one copy from the piece (or the file) to the buffer
                    // the socket sends from, not two through a buffer of our own.
                    var length = (int)Math.Min(StreamChunk, Math.Min(end, readable) - offset);
                    var memory = writer.GetMemory(length);
                    var read = download.Read(file, offset, memory.Span[..Math.Min(length, memory.Length)]);
                    if (read == 0)
                    {
                        throw new IOException($"{download.Path} ended at {offset}.");
                    }

                    writer.Advance(read);
                    stall.WriteStarted();
                    var flushed = await writer.FlushAsync(stall.Token).ConfigureAwait(false);
                    stall.WriteFinished();
                    if (flushed.IsCompleted)
                    {
                        // The client went away; nothing reads the rest.
                        return;
                    }

                    _metrics.BytesServed(read);
                    offset += read;
                }
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            if (stall.IsStalled)
            {
                _metrics.StreamStalled();
                AgentLog.StreamStalled(_logger, fetch.Digest.Value, _options.StreamStallTimeout.TotalSeconds, offset - start, count);
            }
            else
            {
                AgentLog.StreamAborted(_logger, fetch.Digest.Value, ex.Message);
            }

            context.Abort();
        }
        finally
        {
            stall.Dispose();
        }
    }

    private RegistryException FastMiss(Digest digest, string ns, string reason)
    {
        _metrics.FastMiss("blob");
        AgentLog.FastMiss(_logger, "blob", digest.Value, ns, reason);
        return new RegistryException(RegistryError.BlobUnknown, $"blob unknown to this mirror: {reason}", digest.Value);
    }
}

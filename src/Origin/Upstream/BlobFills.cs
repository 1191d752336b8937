using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Hosting.Storage;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Storage;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Origin.Upstream;

/// <summary>
/// Fills blobs from upstreams: at most one upstream GET per digest at a time, however many requesters (GET or
/// HEAD, any repository) ask. The fill runs on its own cancellation and timeout, not a requester's: a client
/// that goes away does not abort it. A verified blob enters the store exactly as an uploaded one does (temp
/// file → SHA-256 checked → fsync → metainfo → rename), so it is served, described and seeded like one.
/// </summary>
internal sealed class BlobFills : IAsyncDisposable
{
    private const int BufferSize = 1024 * 1024;

    // How long a stop waits for the fills still running: a cancelled one ends at its next read, but one that already
    // released its bytes to readers (verified) is finishing its fsync and rename into the store.
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<Digest, BlobFill> _fills = new();
    private readonly ConcurrentDictionary<BlobFill, Task> _running = new();
    private readonly TimeProvider _time;
    private readonly BlobStore _blobs;
    private readonly RepositoryStore _repositories;
    private readonly OriginMetrics _metrics;
    private readonly ILogger<BlobFills> _logger;
    private readonly DiskFullReporter _storageFull;
    private readonly TimeSpan _fillTimeout;
    private readonly TimeSpan _headersTimeout;
    private readonly TimeSpan _idleTimeout;
    private readonly long _maxBytes;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _slots;
    private readonly int _maxFills;
    private readonly TimeSpan _queueTimeout;
    private readonly Collection.CollectionGate _gc;

    public BlobFills(BlobStore blobs, RepositoryStore repositories, OriginMetrics metrics, IOptions<OriginOptions> options, ILogger<BlobFills> logger, DiskFullReporter storageFull, Collection.CollectionGate gc, TimeProvider time)
    {
        _time = time;
        _storageFull = storageFull;
        _gc = gc;
        _maxFills = options.Value.MaxConcurrentFills;
        _queueTimeout = options.Value.FillQueueTimeout;
        _slots = new SemaphoreSlim(_maxFills, _maxFills);
        _blobs = blobs;
        _repositories = repositories;
        _metrics = metrics;
        _logger = logger;
        _fillTimeout = options.Value.UpstreamFillTimeout;
        _headersTimeout = options.Value.UpstreamTimeout;
        _idleTimeout = options.Value.UpstreamIdleTimeout;
        _maxBytes = options.Value.MaxUploadBytes;
    }

    /// <summary>Fills in progress (for tests and metrics).</summary>
    public int Count => _fills.Count;

    /// <summary>The fill of <paramref name="digest"/> in progress, if any.</summary>
    public bool TryGet(Digest digest, out BlobFill fill) => _fills.TryGetValue(digest, out fill!);

    /// <summary>
    /// Joins the fill of <paramref name="digest"/> or starts one from <paramref name="client"/> (repository
    /// <paramref name="upstreamRepository"/> there); the stored blob is linked into <paramref name="localRepository"/>.
    /// A new fill needs one of <c>Origin:MaxConcurrentFills</c> slots: joining one in progress never waits, starting
    /// one waits at most <c>Origin:FillQueueTimeout</c> and then throws <see cref="FillSlotsBusyException"/>.
    /// </summary>
    public async Task<BlobFill> GetOrStartAsync(UpstreamClient client, string upstreamRepository, string localRepository, Digest digest, CancellationToken cancellationToken)
    {
        if (_fills.TryGetValue(digest, out var running))
        {
            return running;
        }

        var waited = Stopwatch.GetTimestamp();
        if (!await _slots.WaitAsync(_queueTimeout, cancellationToken).ConfigureAwait(false))
        {
            // Someone may have started this very digest while we waited: join it.
            if (_fills.TryGetValue(digest, out running))
            {
                return running;
            }

            UpstreamLog.FillSlotsBusy(_logger, client.Upstream.Name, digest.Value, Stopwatch.GetElapsedTime(waited).TotalSeconds, _maxFills);
            _metrics.FillRefused();
            throw new FillSlotsBusyException(_maxFills);
        }

        var slotHandedOver = false;
        try
        {
            while (true)
            {
                if (_fills.TryGetValue(digest, out var existing))
                {
                    return existing;
                }

                var temp = Path.Combine(_blobs.Layout.Uploads, $"fill-{digest.Hex[..16]}-{Guid.NewGuid():N}.tmp");
                var fill = new BlobFill(digest, client.Upstream.Name, temp);
                if (_fills.TryAdd(digest, fill))
                {
                    slotHandedOver = true;
                    var run = Task.Run(async () =>
                    {
                        try
                        {
                            await RunAsync(fill, client, upstreamRepository, localRepository).ConfigureAwait(false);
                        }
                        finally
                        {
                            _slots.Release();
                            _running.TryRemove(fill, out _);
                        }
                    }, CancellationToken.None);
                    _running[fill] = run;

                    // Also once it ended, after it was recorded: a fill that ended before that found nothing to remove.
                    _ = run.ContinueWith(ended => _running.TryRemove(fill, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

                    return fill;
                }
            }
        }
        finally
        {
            if (!slotHandedOver)
            {
                _slots.Release();
            }
        }
    }

    private async Task RunAsync(BlobFill fill, UpstreamClient client, string upstreamRepository, string localRepository)
    {
        var digest = fill.Digest;
        var upstream = client.Upstream.Name;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(_fillTimeout);
        var started = Stopwatch.GetTimestamp();
        // The fill's blob stays pinned until it is linked into the pulled-through repository (Collection/CollectionGate).
        using var pin = _gc.Hold(digest);
        try
        {
            // A fill that finished between the caller's store check and this one leaves nothing to fetch.
            if (_blobs.TryGetLength(digest, out var stored))
            {
                await _repositories.LinkBlobAsync(localRepository, digest, CancellationToken.None).ConfigureAwait(false);
                Forget(fill);
                fill.Complete(stored);
                return;
            }

            _metrics.FillStarted();
            UpstreamLog.FillStarted(_logger, upstream, digest.Value, upstreamRepository);
            var length = await FetchAsync(fill, client, upstreamRepository, timeout.Token).ConfigureAwait(false);
            await _repositories.LinkBlobAsync(localRepository, digest, CancellationToken.None).ConfigureAwait(false);
            // Out of the table before completing: whoever asks next finds the blob in the store.
            Forget(fill);
            fill.Complete(length);
            _metrics.FillCompleted();
            UpstreamLog.FillCompleted(_logger, upstream, digest.Value, length, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (Exception ex)
        {
            var failure = ex switch
            {
                UpstreamException upstreamException => upstreamException,
                _ when _storageFull.IsFull(ex) => new UpstreamException(UpstreamFailure.StorageFull, upstream, $"no space left to store {digest.Value}", ex),
                OperationCanceledException when timeout.IsCancellationRequested && !_stopping.IsCancellationRequested =>
                    new UpstreamException(UpstreamFailure.TimedOut, upstream, $"fill of {digest.Value} took longer than {_fillTimeout}", ex),
                OperationCanceledException => new UpstreamException(UpstreamFailure.Unreachable, upstream, "the origin is stopping", ex),
                HttpRequestException or IOException => new UpstreamException(UpstreamFailure.Unreachable, upstream, $"transfer of {digest.Value} broke: {ex.Message}", ex),
                _ => new UpstreamException(UpstreamFailure.Failed, upstream, $"fill of {digest.Value} failed: {ex.Message}", ex),
            };
            // Out of the table first: whoever asks next starts a fresh fill. Failed before its file goes: a requester
            // holding this fill then gets no reader (and the failure) instead of a file that vanished under it.
            _fills.TryRemove(new KeyValuePair<Digest, BlobFill>(fill.Digest, fill));
            _metrics.FillFailed();
            if (failure.Failure == UpstreamFailure.StorageFull)
            {
                _storageFull.Report("fill", ex);
            }
            else if (failure.Failure != UpstreamFailure.DigestMismatch)
            {
                UpstreamLog.FillFailed(_logger, upstream, digest.Value, failure.Message);
            }

            fill.Fail(failure);
            DurableFiles.TryDelete(fill.TempPath);
        }
        finally
        {
            Forget(fill);
        }
    }

    /// <summary>
    /// The fill's temp file, preallocated to the length the upstream announced: a blob the disk has no room for fails
    /// here, before a requester got headers (507), rather than half way through its body.
    /// </summary>
    private SafeFileHandle CreateTemp(string path, long length)
    {
        try
        {
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, FileOptions.None, length);
        }
        catch (IOException ex) when (length > 0 && DiskFull.Is(ex, _blobs.Layout.Uploads, length))
        {
            // A failed preallocation carries no errno (.NET removed the file): give it the full disk's.
            throw DiskFull.NoSpace($"No space left for the {length} bytes of a fill.", ex);
        }
    }

    private void Forget(BlobFill fill)
    {
        _fills.TryRemove(new KeyValuePair<Digest, BlobFill>(fill.Digest, fill));
        // After a commit the temp name is gone already; after a failure this removes the partial bytes.
        DurableFiles.TryDelete(fill.TempPath);
    }

    /// <summary>Streams the upstream body into the temp file, hashing as it goes; commits it when it verifies. Returns the length.</summary>
    private async Task<long> FetchAsync(BlobFill fill, UpstreamClient client, string upstreamRepository, CancellationToken cancellationToken)
    {
        var digest = fill.Digest;
        var upstream = client.Upstream.Name;
        // An upstream that accepts the connection and then says nothing must not hold every requester of the digest
        // for the whole fill timeout: the headers (token fetch included) come within UpstreamTimeout, and each body
        // read within UpstreamIdleTimeout. Failing forgets the fill, so the next request starts a fresh one.
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stall.CancelAfter(_headersTimeout);
        HttpResponseMessage sent;
        try
        {
            sent = await UpstreamExchange.SendAsync(client, _metrics, UpstreamExchange.BlobGet, HttpMethod.Get, upstreamRepository, $"blobs/{digest.Value}", [], stall.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (stall.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new UpstreamException(UpstreamFailure.TimedOut, upstream, $"no response to GET blob {digest.Value} within {_headersTimeout}", ex);
        }

        using var response = sent;
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new UpstreamException(UpstreamFailure.NotFound, upstream, $"has no blob {digest.Value} in {upstreamRepository}");
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new UpstreamException(UpstreamFailure.Failed, upstream, $"answered {(int)response.StatusCode} for blob {digest.Value}");
        }

        var declared = response.Content.Headers.ContentLength;
        if (declared > _maxBytes)
        {
            throw new UpstreamException(UpstreamFailure.Protocol, upstream, $"blob {digest.Value} is {declared} bytes, over the {_maxBytes}-byte limit");
        }

        Directory.CreateDirectory(_blobs.Layout.Uploads);
        using var hasher = new BlobHasher(declared is { } known ? PieceLength.For(known) : null);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            using (var handle = CreateTemp(fill.TempPath, declared ?? 0))
            {
                if (declared is { } length)
                {
                    // Readers learn the length (and can answer with headers) as soon as the upstream did.
                    fill.SetLength(length);
                }

                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    while (true)
                    {
                        stall.CancelAfter(_idleTimeout);
                        int read;
                        try
                        {
                            read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), stall.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException ex) when (stall.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                        {
                            throw new UpstreamException(UpstreamFailure.TimedOut, upstream, $"blob {digest.Value} body stalled at {total} bytes: nothing for {_idleTimeout}", ex);
                        }

                        if (read == 0)
                        {
                            break;
                        }

                        if (total + read > (declared ?? _maxBytes))
                        {
                            throw new UpstreamException(UpstreamFailure.Protocol, upstream, $"blob {digest.Value} body is longer than {declared ?? _maxBytes} bytes");
                        }

                        var chunk = buffer.AsSpan(0, read);
                        RandomAccess.Write(handle, chunk, total);
                        hasher.Append(chunk);
                        total += read;
                        _metrics.UpstreamBytes(read);
                        fill.Advance(read);
                    }
                }

                if (declared is { } expectedLength && total != expectedLength)
                {
                    throw new UpstreamException(UpstreamFailure.Unreachable, upstream, $"blob {digest.Value} body ended at {total} of {expectedLength} bytes");
                }

                var actual = hasher.ComputeDigest();
                if (actual != digest)
                {
                    _metrics.UpstreamDigestMismatch();
                    UpstreamLog.BlobDigestMismatch(_logger, upstream, digest.Value, actual.Value, total);
                    throw new UpstreamException(UpstreamFailure.DigestMismatch, upstream, $"blob {digest.Value} content hashes to {actual.Value}");
                }

                // Readers get the final byte now: what they send is verified, and the fsync (a 200 MiB blob's took 0.2-0.5 s)
                // and the commit below no longer sit between the upstream's last byte and the client's. The store still
                // takes the blob only once durable; a commit that fails after this stores nothing.
                fill.Verify(total);
                RandomAccess.FlushToDisk(handle);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var metaInfo = hasher.CreateMetaInfo(digest)
            ?? await _blobs.HashFileAsync(fill.TempPath, digest, total, "upstream sent no Content-Length", CancellationToken.None).ConfigureAwait(false);
        // Requesters arriving from here on read the store; those attached keep their handle on the renamed file.
        fill.StopAttaching();
        await _blobs.CommitAsync(fill.TempPath, digest, metaInfo, CancellationToken.None).ConfigureAwait(false);
        return total;
    }

    /// <summary>
    /// Cancels the fills in progress (the origin is stopping) and waits, bounded, for them to end: one past its
    /// verification finishes moving its blob into the store rather than writing to a store that is going away. The
    /// sources are left undisposed: a fill may still use them.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(StopWait, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Left to finish on their own; the next start removes what they leave in uploads/ (StorageStartup).
        }
    }
}

/// <summary>Every fill slot stayed taken for the whole queue timeout.</summary>
internal sealed class FillSlotsBusyException(int maxFills)
    : Exception($"all {maxFills} blob fills from upstreams are busy; try again shortly")
{
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Agent.Tracking;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Hosting.Storage;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// Turns cache misses into downloads, one per digest however many clients ask at once: through the swarm when
/// the tracker has the blob's MetaInfo, else straight from the origin (<see cref="OriginBlobStreamer"/>), which pulls
/// it through from its upstream (the swarm cannot have a blob no origin holds yet). A finished download (every piece
/// and the whole blob's sha256 checked) is moved into the cache and seeded from there, its MetaInfo kept on the
/// <see cref="MetaInfoShelf"/>.
/// </summary>
internal sealed class BlobFetcher : IAsyncDisposable
{
    private readonly Dictionary<Digest, BlobFetch> _fetches = [];
    private readonly Lock _lock = new();
    private long _started;
    private readonly IMetaInfoSource _metaInfos;
    private readonly OriginBlobStreamer _origin;
    private readonly MetaInfoShelf _shelf;
    private readonly SwarmEngine _engine;
    private readonly BlobCache _cache;
    private readonly AgentMetrics _metrics;
    private readonly AgentOptions _options;
    private readonly ILogger<BlobFetcher> _logger;
    private readonly DiskFullReporter _diskFull;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _downloadRoot;
    private int _disposed;

    public BlobFetcher(IMetaInfoSource metaInfos, OriginBlobStreamer origin, MetaInfoShelf shelf, SwarmEngine engine, BlobCache cache, AgentMetrics metrics, IOptions<AgentOptions> options, ILogger<BlobFetcher> logger, DiskFullReporter diskFull, TimeProvider time)
    {
        _time = time;
        _diskFull = diskFull;
        _metaInfos = metaInfos;
        _origin = origin;
        _shelf = shelf;
        _engine = engine;
        _cache = cache;
        _metrics = metrics;
        _options = options.Value;
        _logger = logger;
        _downloadRoot = Path.GetFullPath(_options.DownloadPath);
        Directory.CreateDirectory(_downloadRoot);
    }

    /// <summary>Downloads started since the agent started (a download that began and ended between two looks shows here).</summary>
    public long StartedCount => Interlocked.Read(ref _started);

    /// <summary>Downloads in progress (tests and metrics).</summary>
    public int ActiveCount
    {
        get
        {
            lock (_lock)
            {
                return _fetches.Count;
            }
        }
    }

    /// <summary>The download of <paramref name="digest"/>: the one in progress, or a new one.</summary>
    public BlobFetch GetOrStart(Digest digest, string registryNamespace, string? repository = null)
    {
        lock (_lock)
        {
            if (_fetches.TryGetValue(digest, out var existing))
            {
                return existing;
            }

            return StartLocked(digest, registryNamespace, repository, rangeOnly: false);
        }
    }

    private BlobFetch StartLocked(Digest digest, string registryNamespace, string? repository, bool rangeOnly)
    {
        var fetch = new BlobFetch(digest, registryNamespace, repository, rangeOnly);
        _fetches.Add(digest, fetch);
        Interlocked.Increment(ref _started);
        _metrics.DownloadStarted();
        _ = Task.Run(() => RunAsync(fetch));
        return fetch;
    }

    /// <summary>
    /// Joins a reader to the download of <paramref name="digest"/> (the one in progress, or a new one), under the lock an
    /// idle download of byte ranges is stopped under, so it cannot stop once joined. <paramref name="rangeOnly"/>: the
    /// reader wants a byte range, and a new download fetches only the pieces asked for; false makes a download of byte
    /// ranges whole. Null when <c>Agent:MaxRangeDownloads</c> downloads of byte ranges are open and each is being read.
    /// The reader leaves with <see cref="Leave"/>.
    /// </summary>
    public BlobFetch? Join(Digest digest, string registryNamespace, string? repository, bool rangeOnly)
    {
        Task? stopping = null;
        BlobFetch fetch;
        lock (_lock)
        {
            if (!_fetches.TryGetValue(digest, out var existing) && rangeOnly && !TryMakeRoomLocked(out stopping))
            {
                return null;
            }

            fetch = existing ?? StartLocked(digest, registryNamespace, repository, rangeOnly);
            if (!rangeOnly)
            {
                fetch.MakeWhole();
            }

            fetch.AddReader();
        }

        if (!rangeOnly && fetch.Started is { IsCompletedSuccessfully: true, Result: SwarmBlobDownload { Handle: var handle } })
        {
            // Made whole after it started: the swarm fetches every piece from now on (once it had started, RunAsync
            // no longer looks), whatever becomes of this reader.
            handle.WantAll();
        }

        ObserveStop(stopping);
        return fetch;
    }

    /// <summary>
    /// A reader is done. A download of byte ranges nobody reads any more is stopped after <c>Agent:RangeIdleTimeout</c>
    /// unless read again meanwhile; its verified pieces stay on disk for the next request.
    /// </summary>
    public void Leave(BlobFetch fetch)
    {
        fetch.RemoveReader(_time.GetTimestamp());
        if (fetch.RangeOnly && fetch.Readers == 0)
        {
            _ = StopWhenIdleAsync(fetch, fetch.Joins);
        }
    }

    private async Task StopWhenIdleAsync(BlobFetch fetch, long joins)
    {
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            await Task.Delay(_options.RangeIdleTimeout, _time, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // Shutting down (the token's source may be disposed already): the engine stops every swarm.
            return;
        }

        Task? stopping;
        lock (_lock)
        {
            stopping = fetch.Joins == joins ? StopIdleRangeLocked(fetch) : null;
        }

        ObserveStop(stopping);
    }

    // At the limit of downloads of byte ranges, the one whose last reader left longest ago goes (among those that
    // started: one still starting cannot be stopped yet); false when none can go.
    private bool TryMakeRoomLocked(out Task? stopping)
    {
        stopping = null;
        var open = 0;
        BlobFetch? idlest = null;
        foreach (var candidate in _fetches.Values)
        {
            if (!candidate.RangeOnly)
            {
                continue;
            }

            open++;
            if (candidate.Readers == 0 && candidate.Started.IsCompletedSuccessfully && (idlest is null || candidate.LastLeft < idlest.LastLeft))
            {
                idlest = candidate;
            }
        }

        if (open < _options.MaxRangeDownloads)
        {
            return true;
        }

        stopping = idlest is null ? null : StopIdleRangeLocked(idlest);
        return stopping is not null;
    }

    /// <summary>
    /// Stops a download of byte ranges that nobody reads, under the lock: the engine forgets its swarm (and closes its
    /// file, which keeps its verified pieces) before another request can start the blob again.
    /// </summary>
    private Task? StopIdleRangeLocked(BlobFetch fetch)
    {
        if (!fetch.RangeOnly || fetch.Readers > 0 || !_fetches.TryGetValue(fetch.Digest, out var current) || current != fetch
            || !fetch.Started.IsCompletedSuccessfully || fetch.Started.Result is not SwarmBlobDownload { Handle: var handle } || handle.IsComplete)
        {
            return null;
        }

        _fetches.Remove(fetch.Digest);
        _metrics.DownloadEnded();
        AgentLog.RangeDownloadClosed(_logger, fetch.Digest.Value, handle.VerifiedPieces, handle.PieceCount);
        fetch.Fail(new BlobUnavailableException("the download of byte ranges was closed while idle"));
        return _engine.StopAsync(handle.InfoHash);
    }

    private static void ObserveStop(Task? stopping)
    {
        // Only the stopped announce is left to run; its failures are the engine's to log.
        _ = stopping?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>The download in progress for <paramref name="digest"/>, if any.</summary>
    public BlobFetch? Find(Digest digest)
    {
        lock (_lock)
        {
            return _fetches.GetValueOrDefault(digest);
        }
    }

    /// <summary>
    /// Runs <paramref name="remove"/> (the removal of <paramref name="digest"/>'s partial download) unless a fetch of it is
    /// in progress, under the lock <see cref="GetOrStart"/> takes: a fetch cannot start in between and resume files that
    /// are then unlinked; one asked for meanwhile starts once they are gone. Returns what <paramref name="remove"/> did
    /// (the bytes removed), 0 when a fetch runs.
    /// </summary>
    public long RemoveIfIdle(Digest digest, Func<Digest, long> remove)
    {
        ArgumentNullException.ThrowIfNull(remove);
        lock (_lock)
        {
            return _fetches.ContainsKey(digest) ? 0 : remove(digest);
        }
    }

    /// <summary>
    /// Gives up a download nobody is reading and no peer serves (the client was sent elsewhere). Its
    /// verified pieces stay on disk for the next attempt.
    /// </summary>
    public async Task AbandonIfIdleAsync(BlobFetch fetch, int exceptReaders = 0)
    {
        if (!fetch.Started.IsCompletedSuccessfully || fetch.Started.Result is not SwarmBlobDownload { Handle: var handle })
        {
            return;
        }

        if (fetch.Readers > exceptReaders || handle.PeerCount > 0 || handle.IsComplete)
        {
            return;
        }

        if (Remove(fetch))
        {
            fetch.Fail(new BlobUnavailableException("abandoned: no peer serves it"));
            await _engine.StopAsync(handle.InfoHash).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(BlobFetch fetch)
    {
        var digest = fetch.Digest;
        DownloadHandle? handle = null;
        string? path = null;
        // Where a full disk would have hit (the disk_full metric's label).
        var stage = "download";
        try
        {
            MetaInfo? metaInfo;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                timeout.CancelAfter(_options.OriginTimeout);
                try
                {
                    metaInfo = await _metaInfos.GetMetaInfoAsync(digest, fetch.Namespace, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!_stopping.IsCancellationRequested)
                {
                    throw new BlobUnavailableException("the tracker did not answer GetMetaInfo in time", ex);
                }
                catch (MetaInfoUnavailableException ex)
                {
                    throw new BlobUnavailableException(ex.Message, ex);
                }
            }

            if (metaInfo is null)
            {
                if (fetch.Repository is null)
                {
                    throw new BlobUnavailableException("no origin holds this blob");
                }

                // Streamed in order from the origin as it pulls the blob through: there are no pieces to fetch apart.
                fetch.MakeWhole();
                fetch.SetResolved();
                var (download, streamed) = await _origin.StreamAsync(fetch, _stopping.Token).ConfigureAwait(false);
                try
                {
                    stage = "metainfo";
                    await _shelf.KeepAsync(streamed).ConfigureAwait(false);
                    stage = "cache";
                    Admit(fetch, streamed, download.Path, fromPeers: 0, fromOrigins: download.Length);
                }
                catch (Exception ex)
                {
                    OriginBlobStreamer.Discard(download, ex);
                    throw;
                }

                return;
            }

            BlobUnavailableException.ThrowIfLargerThanTheCache(metaInfo.Length, _options.CacheCapacityBytes);

            // The swarm serves this blob: no fast miss from here on, even if creating the download's file on a busy
            // disk takes longer than the miss timeout (seen at 1.3-1.8 s while 12 Agents started at once).
            fetch.SetResolved();
            AgentLog.FetchStarted(_logger, digest.Value, metaInfo.Length, metaInfo.PieceCount);
            path = Path.Combine(_downloadRoot, digest.Hex);
            handle = await _engine.StartDownloadAsync(metaInfo, path, wantAll: !fetch.RangeOnly, _stopping.Token).ConfigureAwait(false);
            fetch.SetStarted(new SwarmBlobDownload(handle, _options.StreamPriorityPieces));
            if (!fetch.RangeOnly)
            {
                // A whole-blob reader joined while the download was being set up for byte ranges only.
                handle.WantAll();
            }
            else if (fetch.Readers == 0)
            {
                // Its readers all left before it started: their idle timers found nothing to stop, so one starts now.
                _ = StopWhenIdleAsync(fetch, fetch.Joins);
            }

            // Succeeds only once every piece passed its SHA-1 and the whole file its sha256.
            await handle.Completion.ConfigureAwait(false);
            var statistics = handle.Statistics;
            var fromOrigins = statistics.BytesFromOrigins;
            var fromPeers = statistics.BytesDownloaded - fromOrigins;

            // The swarm goes on seeding from its open file while the file moves into the cache (a rename): its peers
            // keep their connections and requests. Stopping it here and seeding anew dropped every peer at the moment
            // this node held the most they lacked (they came back only after an announce and a new handshake).
            stage = "metainfo";
            await _shelf.KeepAsync(metaInfo).ConfigureAwait(false);
            stage = "cache";
            Admit(fetch, metaInfo, path, fromPeers, fromOrigins);
        }
        catch (Exception ex)
        {
            var diskFull = _diskFull.IsFull(ex) ? ex : null;
            if (diskFull is not null)
            {
                ex = new BlobUnavailableException($"the agent's disk is full ({stage})", ex);
            }
            else if (ex is not BlobUnavailableException && !fetch.Cached.IsCompleted)
            {
                // (A download of byte ranges closed while idle failed its fetch first: no failure to log.)
                AgentLog.FetchFailed(_logger, digest.Value, ex);
            }

            if (stage == "cache")
            {
                _shelf.Discard(digest);
            }

            if (handle is { Completion.IsCompletedSuccessfully: true } && !_cache.Contains(digest))
            {
                // Complete, but its MetaInfo or the move into the cache failed: the swarm seeding it goes, and so does
                // its file, which nothing would ever clean up (a download in progress for this digest is this one, so
                // the fetch is still registered and no retry can have started on the same path).
                await _engine.StopAsync(handle.InfoHash).ConfigureAwait(false);
                handle = null;
                PartialDownloadFiles.Delete(path!);
            }

            if (diskFull is not null)
            {
                // Once its files are gone. Logged once a minute per stage however many requests hit it; counted each time.
                _diskFull.Report(stage, diskFull);
            }

            Remove(fetch);
            fetch.Fail(ex is BlobUnavailableException ? ex : new BlobUnavailableException($"the download failed: {ex.Message}", ex));
            // A download that failed or was stopped is gone from the engine already; stopping by info hash then could
            // hit a retry of the same blob that started meanwhile. One that completed but did not make it into the
            // cache (its MetaInfo or the move failed) still seeds a file the cache does not account for: it goes.
            if (handle is not null && (!handle.Completion.IsCompleted || (handle.Completion.IsCompletedSuccessfully && !_cache.Contains(digest))))
            {
                await _engine.StopAsync(handle.InfoHash).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Moves a verified download, whose MetaInfo is kept, into the cache, seeds it (a swarm still running for it goes
    /// on: the engine returns it), and ends the fetch.
    /// </summary>
    private void Admit(BlobFetch fetch, MetaInfo metaInfo, string path, long fromPeers, long fromOrigins)
    {
        var digest = fetch.Digest;
        _cache.Admit(digest, path);
        _engine.Seed(metaInfo, _cache.PathOf(digest));
        _metrics.DownloadFinished(fromPeers, fromOrigins);
        AgentLog.FetchCached(_logger, digest.Value, fromPeers, fromOrigins);
        Remove(fetch);
        fetch.SetCached();
    }

    private bool Remove(BlobFetch fetch)
    {
        lock (_lock)
        {
            if (_fetches.TryGetValue(fetch.Digest, out var current) && current == fetch)
            {
                _fetches.Remove(fetch.Digest);
                _metrics.DownloadEnded();
                return true;
            }

            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Called at host stop (before the engine goes) and again by the container.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}

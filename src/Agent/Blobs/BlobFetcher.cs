using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Agent.Tracking;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// Turns cache misses into swarm downloads, one per digest however many clients ask at once. A finished
/// download (the engine has checked every piece and the whole blob's sha256) is moved into the cache and
/// seeded from there; its MetaInfo is kept beside the cache so a restarted agent seeds it again.
/// </summary>
internal sealed class BlobFetcher : IAsyncDisposable
{
    private readonly Dictionary<Digest, BlobFetch> _fetches = [];
    private readonly Lock _lock = new();
    private readonly IMetaInfoSource _metaInfos;
    private readonly SwarmEngine _engine;
    private readonly BlobCache _cache;
    private readonly AgentMetrics _metrics;
    private readonly AgentOptions _options;
    private readonly ILogger<BlobFetcher> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _downloadRoot;
    private readonly string _metaInfoRoot;
    private int _disposed;

    public BlobFetcher(IMetaInfoSource metaInfos, SwarmEngine engine, BlobCache cache, AgentMetrics metrics, IOptions<AgentOptions> options, ILogger<BlobFetcher> logger)
    {
        _metaInfos = metaInfos;
        _engine = engine;
        _cache = cache;
        _metrics = metrics;
        _options = options.Value;
        _logger = logger;
        _downloadRoot = Path.GetFullPath(_options.DownloadPath);
        _metaInfoRoot = Path.Combine(Path.GetFullPath(_options.DataPath), "metainfo");
        Directory.CreateDirectory(_downloadRoot);
        Directory.CreateDirectory(_metaInfoRoot);
        _cache.Evicted += OnEvicted;
    }

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
    public BlobFetch GetOrStart(Digest digest, string registryNamespace)
    {
        lock (_lock)
        {
            if (_fetches.TryGetValue(digest, out var existing))
            {
                return existing;
            }

            var fetch = new BlobFetch(digest, registryNamespace);
            _fetches.Add(digest, fetch);
            _metrics.DownloadStarted();
            _ = Task.Run(() => RunAsync(fetch));
            return fetch;
        }
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
    /// Gives up a download nobody is reading and no peer serves (the client was sent elsewhere). Its
    /// verified pieces stay on disk for the next attempt.
    /// </summary>
    public async Task AbandonIfIdleAsync(BlobFetch fetch, int exceptReaders = 0)
    {
        if (!fetch.Started.IsCompletedSuccessfully)
        {
            return;
        }

        var handle = fetch.Started.Result;
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

    /// <summary>Seeds every cached blob whose MetaInfo was kept (after a restart).</summary>
    public void SeedCachedBlobs()
    {
        foreach (var file in Directory.EnumerateFiles(_metaInfoRoot))
        {
            if (!Digest.TryParse(Digest.Sha256Algorithm + ":" + Path.GetFileName(file), out var digest) || !_cache.Contains(digest))
            {
                File.Delete(file);
                continue;
            }

            try
            {
                var metaInfo = MetaInfo.Decode(File.ReadAllBytes(file));
                if (metaInfo.Digest == digest)
                {
                    _engine.Seed(metaInfo, _cache.PathOf(digest));
                }
            }
            catch (Exception ex) when (ex is FormatException or IOException)
            {
                File.Delete(file);
            }
        }
    }

    private async Task RunAsync(BlobFetch fetch)
    {
        var digest = fetch.Digest;
        DownloadHandle? handle = null;
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
                throw new BlobUnavailableException("no origin holds this blob");
            }

            AgentLog.FetchStarted(_logger, digest.Value, metaInfo.Length, metaInfo.PieceCount);
            var path = Path.Combine(_downloadRoot, digest.Hex);
            handle = await _engine.StartDownloadAsync(metaInfo, path, _stopping.Token).ConfigureAwait(false);
            fetch.SetStarted(handle);

            // Succeeds only once every piece passed its SHA-1 and the whole file its sha256.
            await handle.Completion.ConfigureAwait(false);
            var statistics = handle.Statistics;
            var fromOrigins = statistics.BytesFromOrigins;
            var fromPeers = statistics.BytesDownloaded - fromOrigins;

            // The engine seeds from the download file until now; stop it, move the file, seed from the cache.
            await _engine.StopAsync(handle.InfoHash).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(_metaInfoRoot, digest.Hex), metaInfo.Encoded.ToArray()).ConfigureAwait(false);
            _cache.Admit(digest, path);
            // The engine keeps its piece bitfield beside the download (PieceStore.BitfieldSuffix); a finished one is useless.
            File.Delete(path + ".pieces");
            _engine.Seed(metaInfo, _cache.PathOf(digest));
            _metrics.DownloadFinished(fromPeers, fromOrigins);
            AgentLog.FetchCached(_logger, digest.Value, fromPeers, fromOrigins);
            Remove(fetch);
            fetch.SetCached();
        }
        catch (Exception ex)
        {
            if (ex is not BlobUnavailableException)
            {
                AgentLog.FetchFailed(_logger, digest.Value, ex);
            }

            Remove(fetch);
            fetch.Fail(ex is BlobUnavailableException ? ex : new BlobUnavailableException($"the download failed: {ex.Message}", ex));
            if (handle is not null && !handle.IsComplete)
            {
                await _engine.StopAsync(handle.InfoHash).ConfigureAwait(false);
            }
        }
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

    private void OnEvicted(Digest digest)
    {
        AgentLog.Evicted(_logger, digest.Value);
        var file = Path.Combine(_metaInfoRoot, digest.Hex);
        try
        {
            var metaInfo = MetaInfo.Decode(File.ReadAllBytes(file));
            File.Delete(file);
            _ = _engine.StopAsync(metaInfo.InfoHash);
        }
        catch (Exception ex) when (ex is FormatException or IOException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Called at host stop (before the engine goes) and again by the container.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _cache.Evicted -= OnEvicted;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}

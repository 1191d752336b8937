using System.Buffers;
using System.Security.Cryptography;
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
/// Turns cache misses into downloads, one per digest however many clients ask at once: through the swarm when
/// the tracker has the blob's MetaInfo, else straight from the origin, which pulls it through from its upstream
/// (the swarm cannot have a blob no origin holds yet). A finished download (every piece and the whole blob's
/// sha256 checked) is moved into the cache and seeded from there; its MetaInfo is kept beside the cache so a
/// restarted agent seeds it again.
/// </summary>
internal sealed class BlobFetcher : IAsyncDisposable
{
    private const int CopyChunk = 256 * 1024;
    private const string OriginSuffix = ".origin";

    private const string BitfieldSuffix = DownloadHandle.BitfieldSuffix;
    private readonly Dictionary<Digest, BlobFetch> _fetches = [];
    private readonly Lock _lock = new();
    private readonly IMetaInfoSource _metaInfos;
    private readonly OriginBlobClient _origin;
    private readonly SwarmEngine _engine;
    private readonly BlobCache _cache;
    private readonly AgentMetrics _metrics;
    private readonly AgentOptions _options;
    private readonly ILogger<BlobFetcher> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _downloadRoot;
    private readonly string _metaInfoRoot;
    private int _disposed;

    public BlobFetcher(IMetaInfoSource metaInfos, OriginBlobClient origin, SwarmEngine engine, BlobCache cache, AgentMetrics metrics, IOptions<AgentOptions> options, ILogger<BlobFetcher> logger)
    {
        _metaInfos = metaInfos;
        _origin = origin;
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
    public BlobFetch GetOrStart(Digest digest, string registryNamespace, string? repository = null)
    {
        lock (_lock)
        {
            if (_fetches.TryGetValue(digest, out var existing))
            {
                return existing;
            }

            var fetch = new BlobFetch(digest, registryNamespace, repository);
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

    /// <summary>
    /// At start: removes what no download will come back for — streams from the origin (they cannot resume) and
    /// partial swarm downloads nobody touched for <c>Agent:PartialDownloadRetention</c> (with their piece bitfields).
    /// Recent partial downloads stay: the next request for their blob resumes from their verified pieces. Only files
    /// last written before <paramref name="startedAt"/> are candidates, so a download this process began is never hit.
    /// </summary>
    public void SweepDownloads(DateTimeOffset startedAt)
    {
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(_downloadRoot))
        {
            try
            {
                var data = file.EndsWith(BitfieldSuffix, StringComparison.Ordinal) ? file[..^BitfieldSuffix.Length] : file;
                var written = File.Exists(data) ? File.GetLastWriteTimeUtc(data) : File.GetLastWriteTimeUtc(file);
                if (written >= startedAt.UtcDateTime)
                {
                    continue;
                }

                if (file.EndsWith(OriginSuffix, StringComparison.Ordinal) || startedAt.UtcDateTime - written > _options.PartialDownloadRetention || !File.Exists(data))
                {
                    File.Delete(file);
                    removed++;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                AgentLog.SweepFailed(_logger, file, ex.Message);
            }
        }

        if (removed > 0)
        {
            AgentLog.DownloadsSwept(_logger, removed, _downloadRoot);
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
                if (fetch.Repository is null)
                {
                    throw new BlobUnavailableException("no origin holds this blob");
                }

                fetch.SetResolved();
                await FetchFromOriginAsync(fetch).ConfigureAwait(false);
                return;
            }

            ThrowIfLargerThanTheCache(metaInfo.Length);

            // The swarm serves this blob: no fast miss from here on, even if creating the download's file on a busy
            // disk takes longer than the miss timeout (seen at 1.3-1.8 s while 12 Agents started at once).
            fetch.SetResolved();
            AgentLog.FetchStarted(_logger, digest.Value, metaInfo.Length, metaInfo.PieceCount);
            var path = Path.Combine(_downloadRoot, digest.Hex);
            handle = await _engine.StartDownloadAsync(metaInfo, path, _stopping.Token).ConfigureAwait(false);
            fetch.SetStarted(new SwarmBlobDownload(handle, _options.StreamPriorityPieces));

            // Succeeds only once every piece passed its SHA-1 and the whole file its sha256.
            await handle.Completion.ConfigureAwait(false);
            var statistics = handle.Statistics;
            var fromOrigins = statistics.BytesFromOrigins;
            var fromPeers = statistics.BytesDownloaded - fromOrigins;

            // The swarm goes on seeding from its open file while the file moves into the cache (a rename): its peers
            // keep their connections and requests. Stopping it here and seeding anew dropped every peer at the moment
            // this node held the most they lacked (they came back only after an announce and a new handshake).
            await AdmitAndSeedAsync(fetch, metaInfo, path, fromPeers, fromOrigins).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (ex is not BlobUnavailableException)
            {
                AgentLog.FetchFailed(_logger, digest.Value, ex);
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
    /// Moves a verified download into the cache, keeps its MetaInfo, seeds it (a swarm still running for it goes on:
    /// the engine returns it), and ends the fetch.
    /// </summary>
    private async Task AdmitAndSeedAsync(BlobFetch fetch, MetaInfo metaInfo, string path, long fromPeers, long fromOrigins)
    {
        var digest = fetch.Digest;
        await File.WriteAllBytesAsync(Path.Combine(_metaInfoRoot, digest.Hex), metaInfo.Encoded.ToArray()).ConfigureAwait(false);
        _cache.Admit(digest, path);
        _engine.Seed(metaInfo, _cache.PathOf(digest));
        _metrics.DownloadFinished(fromPeers, fromOrigins);
        AgentLog.FetchCached(_logger, digest.Value, fromPeers, fromOrigins);
        Remove(fetch);
        fetch.SetCached();
    }

    /// <summary>
    /// Streams a blob no origin holds yet from the origin, which pulls it through from its upstream, into a file
    /// that readers follow, hashing it as it arrives. The MetaInfo is computed from the same bytes (the same rule the
    /// origin uses, so the same info hash): once the sha256 matched, the blob is cached and seeded like a swarm
    /// download. Throws <see cref="BlobUnavailableException"/> when the origin cannot serve it.
    /// </summary>
    private async Task FetchFromOriginAsync(BlobFetch fetch)
    {
        var digest = fetch.Digest;
        HttpResponseMessage response;
        using (var headers = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
        {
            headers.CancelAfter(_options.OriginTimeout);
            try
            {
                response = await _origin.GetAsync(fetch.Repository!, digest.Value, fetch.Namespace, headers.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new BlobUnavailableException($"the origin is unreachable: {ex.Message}", ex);
            }
            catch (OperationCanceledException ex) when (!_stopping.IsCancellationRequested)
            {
                throw new BlobUnavailableException("the origin did not answer in time", ex);
            }
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new BlobUnavailableException($"the origin answered {(int)response.StatusCode} for it");
            }

            if (response.Content.Headers.ContentLength is not { } length || length < 0)
            {
                throw new BlobUnavailableException("the origin sent it without a length");
            }

            ThrowIfLargerThanTheCache(length);

            AgentLog.FetchFromOrigin(_logger, digest.Value, length, fetch.Repository!, fetch.Namespace);
            var path = Path.Combine(_downloadRoot, digest.Hex + OriginSuffix);
            var download = new OriginBlobDownload(length, path);
            try
            {
                // The file exists before any reader learns of the download: a reader that found no file would take
                // it for a finished download and wait for the cache instead of streaming.
                MetaInfo metaInfo;
                using (var file = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.Read | FileShare.Delete))
                {
                    fetch.SetStarted(download);
                    metaInfo = await CopyAndHashAsync(response, digest, download, file).ConfigureAwait(false);
                }

                download.Blob.Complete(length);
                await AdmitAndSeedAsync(fetch, metaInfo, path, fromPeers: 0, fromOrigins: length).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                download.Blob.Fail(ex);
                File.Delete(path);
                throw;
            }
        }
    }

    private async Task<MetaInfo> CopyAndHashAsync(HttpResponseMessage response, Digest digest, OriginBlobDownload download, Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        var length = download.Length;
        using var hasher = new BlobHasher(PieceLength.For(length));
        var buffer = ArrayPool<byte>.Shared.Rent(CopyChunk);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(_stopping.Token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var written = 0L;
                while (true)
                {
                    int read;
                    using (var idle = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
                    {
                        // A stalled origin fails the download instead of holding its readers forever.
                        idle.CancelAfter(_options.OriginTimeout);
                        try
                        {
                            read = await body.ReadAsync(buffer.AsMemory(0, CopyChunk), idle.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException ex) when (!_stopping.IsCancellationRequested)
                        {
                            throw new BlobUnavailableException($"the origin sent nothing for {_options.OriginTimeout.TotalSeconds:0} s", ex);
                        }
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    if (written + read > length)
                    {
                        throw new BlobUnavailableException($"the origin sent more than the {length} bytes it announced");
                    }

                    RandomAccess.Write(file, buffer.AsSpan(0, read), written);
                    hasher.Append(buffer.AsSpan(0, read));
                    written += read;
                    download.Blob.Advance(read);
                }

                if (written != length)
                {
                    throw new BlobUnavailableException($"the origin's response ended at {written} of {length} bytes");
                }
            }
        }
        catch (IOException ex)
        {
            throw new BlobUnavailableException($"the origin's response broke off: {ex.Message}", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var actual = hasher.ComputeDigest();
        if (actual != digest)
        {
            AgentLog.OriginDigestMismatch(_logger, digest.Value, actual.Value);
            throw new BlobUnavailableException($"the origin's bytes hash to {actual}, not {digest}");
        }

        return hasher.CreateMetaInfo(digest)!;
    }

    /// <summary>A blob the cache could never hold is refused up front rather than downloaded and then dropped.</summary>
    private void ThrowIfLargerThanTheCache(long length)
    {
        if (length > _options.CacheCapacityBytes)
        {
            throw new BlobUnavailableException($"it is {length} bytes, more than the whole cache ({_options.CacheCapacityBytes} bytes, Agent:CacheCapacityBytes)");
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

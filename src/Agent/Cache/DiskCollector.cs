using System.Diagnostics;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Agent.Manifests;
using P2PRegistry.Core.Content;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Cache;

/// <summary>
/// The agent's disk garbage collection, like the kubelet's image GC: every <c>Agent:Gc:Interval</c> and whenever a
/// blob enters the cache, it measures the file system holding <c>Agent:DataPath</c> and the agent's own usage (every
/// file under it: cache, MetaInfo, partial downloads, manifests); above <c>HighThresholdPercent</c> of the file system
/// (or of <c>Agent:CacheCapacityBytes</c> when set) it removes the least recently used of them until usage is below
/// <c>LowThresholdPercent</c> (<see cref="GcPolicy"/>). A blob being read (an open response), seeded since the previous
/// run, or being downloaded is never removed, nor anything younger than <c>MinimumAge</c>. An evicted blob loses its
/// MetaInfo and its swarm (announced stopped). Partial downloads abandoned for <c>Agent:PartialDownloadRetention</c>
/// go in every run, pressure or not.
/// </summary>
internal sealed class DiskCollector : BackgroundService
{
    private readonly BlobCache _cache;
    private readonly MetaInfoShelf _shelf;
    private readonly ManifestCache _manifests;
    private readonly PartialDownloads _partials;
    private readonly BlobFetcher _fetcher;
    private readonly SwarmEngine _engine;
    private readonly GcMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<DiskCollector> _logger;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly GcPolicy _policy;
    private readonly TimeSpan _interval;
    private readonly long _capacity;
    private readonly string _dataPath;
    private readonly SemaphoreSlim _running = new(1, 1);
    private readonly Dictionary<Digest, long> _uploaded = [];
    private readonly Func<Digest, bool> _isDownloading;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DiskCollector(
        BlobCache cache,
        MetaInfoShelf shelf,
        ManifestCache manifests,
        PartialDownloads partials,
        BlobFetcher fetcher,
        SwarmEngine engine,
        GcMetrics metrics,
        IOptions<AgentOptions> options,
        TimeProvider time,
        ILogger<DiskCollector> logger,
        IHostApplicationLifetime? lifetime = null)
    {
        _cache = cache;
        _shelf = shelf;
        _manifests = manifests;
        _partials = partials;
        _fetcher = fetcher;
        _engine = engine;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _lifetime = lifetime;
        var settings = options.Value;
        _policy = new GcPolicy(settings.Gc.HighThresholdPercent, settings.Gc.LowThresholdPercent, settings.Gc.MinimumAge);
        _interval = settings.Gc.Interval;
        _capacity = settings.CacheCapacityBytes;
        _dataPath = Path.GetFullPath(settings.DataPath);
        _isDownloading = digest => _fetcher.Find(digest) is not null;
        _cache.Admitted += _ => RequestRun();
    }

    /// <summary>Asks for a run as soon as the current one (if any) ends.</summary>
    public void RequestRun() => Volatile.Read(ref _wake).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_lifetime is not null)
        {
            // After AgentStartup seeded the cached blobs again (the collector finds their swarms by then).
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
            {
                try
                {
                    await started.Task.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        // The first run comes one interval after the start (or at the first admission): the start's own sweep of
        // partial downloads and the re-seeding of the cache go first, alone.
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.WhenAny(Volatile.Read(ref _wake).Task, Task.Delay(_interval, _time, stoppingToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            // A request that arrives during the run wakes the next wait at once.
            Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            try
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                GcLog.RunFailed(_logger, ex);
            }
        }
    }

    /// <summary>One run (runs never overlap): measure, expire abandoned downloads, evict if above the high threshold.</summary>
    public async Task<GcRun> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        await _running.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RunLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _running.Release();
        }
    }

    private async Task<GcRun> RunLockedAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var now = _time.GetUtcNow();
        var seeded = NoteSeeding();
        var fileSystemBefore = DiskUsage.Of(_dataPath);
        var usedBefore = MeasureOwnUsage();
        var removed = new List<GcItem>();

        // Abandoned partial downloads go whatever the usage (they will not be resumed).
        var partials = _partials.List(_isDownloading);
        var expired = new HashSet<Digest>();
        foreach (var partial in partials)
        {
            if (!partial.Pinned && _partials.IsAbandoned(partial.LastUsed, now) && _fetcher.RemoveIfIdle(partial.Digest, _partials.Remove) is > 0 and var bytes)
            {
                removed.Add(partial with { Bytes = bytes });
                _metrics.Evicted("partial_download", bytes);
                expired.Add(partial.Digest);
            }
        }

        var expiredBytes = removed.Sum(static r => r.Bytes);
        var (bytesToFree, reason) = BytesToFree(usedBefore - expiredBytes, fileSystemBefore with { AvailableBytes = fileSystemBefore.AvailableBytes + expiredBytes });
        if (bytesToFree > 0)
        {
            var candidates = new List<GcItem>();
            foreach (var blob in _cache.Snapshot())
            {
                candidates.Add(new GcItem(GcItemKind.Blob, blob.Digest, blob.Length, blob.LastUsed, blob.Added, blob.BeingRead || seeded.Contains(blob.Digest)));
            }

            candidates.AddRange(partials.Where(p => !expired.Contains(p.Digest)));
            candidates.AddRange(_manifests.List());
            var freed = 0L;
            foreach (var victim in _policy.SelectVictims(candidates, bytesToFree, now))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var bytes = await RemoveAsync(victim).ConfigureAwait(false);
                if (bytes > 0)
                {
                    removed.Add(victim with { Bytes = bytes });
                    freed += bytes;
                }
            }

            if (freed < bytesToFree)
            {
                GcLog.ShortOfTarget(_logger, freed, bytesToFree, reason);
            }
        }

        _cache.PersistLastUse();
        _manifests.PersistLastUse();
        var usedAfter = removed.Count > 0 ? MeasureOwnUsage() : usedBefore;
        var fileSystemAfter = removed.Count > 0 ? DiskUsage.Of(_dataPath) : fileSystemBefore;
        var duration = Stopwatch.GetElapsedTime(started);
        _metrics.Measured(usedAfter, fileSystemAfter.UsedBytes, fileSystemAfter.SizeBytes);
        _metrics.Run(duration);
        var run = new GcRun(usedBefore, usedAfter, fileSystemBefore, fileSystemAfter, bytesToFree, removed, expired.Count, duration);
        if (removed.Count > 0)
        {
            Log(run, reason);
        }

        return run;
    }

    /// <summary>The bytes to free and why: the larger need of the file system's and (when set) the capacity's.</summary>
    private (long Bytes, string Reason) BytesToFree(long used, DiskUsage fileSystem)
    {
        var forFileSystem = _policy.BytesToFree(fileSystem.UsedBytes, fileSystem.SizeBytes);
        var forCapacity = _capacity > 0 ? _policy.BytesToFree(used, _capacity) : 0;
        return forCapacity > forFileSystem
            ? (forCapacity, $"agent usage above {_policy.HighThresholdPercent}% of Agent:CacheCapacityBytes ({_capacity} bytes)")
            : forFileSystem > 0
                ? (forFileSystem, $"file system above {_policy.HighThresholdPercent}% used")
                : (0, "partial downloads untouched for Agent:PartialDownloadRetention");
    }

    /// <summary>
    /// Blobs the swarm uploaded to peers since the previous run count as used now (and are pinned for this run: an
    /// upload may still be under way). Read from the swarm's counters, no I/O.
    /// </summary>
    private HashSet<Digest> NoteSeeding()
    {
        var seeded = new HashSet<Digest>();
        var cached = new HashSet<Digest>();
        foreach (var blob in _cache.Snapshot())
        {
            cached.Add(blob.Digest);
            if (_shelf.InfoHashOf(blob.Digest) is not { } infoHash || _engine.GetStatistics(infoHash) is not { } statistics)
            {
                continue;
            }

            // A swarm closed and opened again starts from 0: any change is a use.
            var uploaded = statistics.BytesUploaded;
            if (_uploaded.TryGetValue(blob.Digest, out var previous) ? uploaded != previous : uploaded > 0)
            {
                _cache.Touch(blob.Digest);
                seeded.Add(blob.Digest);
            }

            _uploaded[blob.Digest] = uploaded;
        }

        foreach (var digest in _uploaded.Keys.Where(d => !cached.Contains(d)).ToList())
        {
            _uploaded.Remove(digest);
        }

        return seeded;
    }

    private async Task<long> RemoveAsync(GcItem victim)
    {
        try
        {
            switch (victim.Kind)
            {
                case GcItemKind.Blob:
                    if (!_cache.TryEvict(victim.Digest, victim.LastUsed))
                    {
                        return 0;
                    }

                    _uploaded.Remove(victim.Digest);
                    _metrics.BlobEvicted();
                    var metaInfo = await _shelf.ReleaseAsync(victim.Digest).ConfigureAwait(false);
                    _metrics.Evicted("blob", victim.Bytes + metaInfo);
                    return victim.Bytes + metaInfo;
                case GcItemKind.PartialDownload:
                    var partial = _fetcher.RemoveIfIdle(victim.Digest, _partials.Remove);
                    _metrics.Evicted("partial_download", partial);
                    return partial;
                default:
                    var manifest = _manifests.Remove(victim.Digest, victim.LastUsed);
                    _metrics.Evicted("manifest", manifest);
                    return manifest;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            GcLog.RemoveFailed(_logger, victim.Kind.ToString(), victim.Digest.Value, ex.Message);
            return 0;
        }
    }

    /// <summary>Every file under the data folder counts (what the agent wrote, strays included).</summary>
    private long MeasureOwnUsage()
    {
        var total = 0L;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var file in new DirectoryInfo(_dataPath).EnumerateFiles("*", options))
        {
            try
            {
                total += file.Length;
            }
            catch (FileNotFoundException)
            {
                // Removed between the listing and the stat.
            }
        }

        return total;
    }

    private void Log(GcRun run, string reason)
    {
        int Count(GcItemKind kind) => run.Removed.Count(r => r.Kind == kind);
        long Bytes(GcItemKind kind) => run.Removed.Where(r => r.Kind == kind).Sum(static r => r.Bytes);
        GcLog.Collected(_logger, run.Freed, run.Duration.TotalMilliseconds,
            Count(GcItemKind.Blob), Bytes(GcItemKind.Blob),
            Count(GcItemKind.PartialDownload), Bytes(GcItemKind.PartialDownload), run.Expired,
            Count(GcItemKind.Manifest), Bytes(GcItemKind.Manifest),
            run.UsedBefore, run.UsedAfter, run.FileSystemBefore.UsedPercent, run.FileSystemAfter.UsedPercent, reason);
    }

    public override void Dispose()
    {
        _running.Dispose();
        base.Dispose();
    }
}

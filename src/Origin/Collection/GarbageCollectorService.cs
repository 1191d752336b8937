using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Storage;
using P2PRegistry.Origin.Upstream;

namespace P2PRegistry.Origin.Collection;

/// <summary>
/// Runs a <see cref="GarbageCollector"/> pass every <c>Origin:Gc:Interval</c> (and on demand through
/// <see cref="RunAsync"/>), one at a time, on a pool thread (the pass is file I/O). A failed pass is logged and
/// counted; the next one starts afresh.
/// </summary>
internal sealed class GarbageCollectorService : BackgroundService
{
    private readonly GarbageCollector _collector;
    private readonly GcOptions _options;
    private readonly CollectionMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<GarbageCollectorService> _logger;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public GarbageCollectorService(StorageLayout layout, BlobStore blobs, CollectionGate gate, PullThroughUsage usage, UpstreamCatalog upstreams,
        IOptions<OriginOptions> options, CollectionMetrics metrics, TimeProvider time, ILogger<GarbageCollectorService> logger)
    {
        var value = options.Value;
        _options = value.Gc;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _collector = new GarbageCollector(layout, gate, usage, name => upstreams.PulledThroughOwner(name) is not null,
            value.Gc.GracePeriod, value.PullThroughCacheBytes, value.MaxManifestBytes, time);
        _collector.BlobRemoved += blobs.ReportRemoved;
        _collector.Doubt += doubt => CollectionLog.Doubtful(_logger, doubt.Digest.Value, doubt.Reason);
    }

    /// <summary>
    /// The blobs the last pass that could remove found unreferenced (empty with GC off or dry). The cluster's repair
    /// loop copies none of them: copying garbage to an owner whose GC just removed it would renew its age there, and two
    /// owners would pass it back and forth for ever instead of both collecting it.
    /// </summary>
    public IReadOnlySet<P2PRegistry.Core.Content.Digest> Unreferenced { get; private set; } = new HashSet<P2PRegistry.Core.Content.Digest>();

    /// <summary>The collector the passes run (tests subscribe to its seams).</summary>
    internal GarbageCollector Collector => _collector;

    /// <summary>One pass now (after the one running, if any); <paramref name="dryRun"/> null = as configured.</summary>
    public async Task<GcReport> RunAsync(bool? dryRun, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var dry = dryRun ?? _options.DryRun;
            var report = await Task.Run(() => _collector.Run(dry, cancellationToken), cancellationToken).ConfigureAwait(false);
            Report(_logger, report);
            if (!dry)
            {
                Unreferenced = report.Unreferenced;
            }

            _metrics.Completed(report);
            return report;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _metrics.Failed();
            CollectionLog.PassFailed(_logger, ex);
            throw;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>The pass's log: one line, and in a dry run one line per blob and eviction it would make.</summary>
    internal static void Report(ILogger logger, GcReport report)
    {
        if (report.DryRun)
        {
            foreach (var (repository, digest) in report.Evicted)
            {
                CollectionLog.WouldEvict(logger, repository, digest.Value);
            }

            foreach (var (digest, size) in report.Removed)
            {
                CollectionLog.WouldRemove(logger, digest.Value, size);
            }
        }

        CollectionLog.PassCompleted(logger, report.DryRun ? " (dry run)" : "", report.Removed.Count, report.RemovedBytes, report.Evicted.Count,
            report.Deferred, report.BlobsSeen, report.Manifests, report.PullThroughBytes, report.Duration.TotalSeconds);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.Interval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await RunAsync(dryRun: null, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Logged and counted by RunAsync; the next tick tries again.
            }
        }
    }

    public override void Dispose()
    {
        _oneAtATime.Dispose();
        base.Dispose();
    }
}

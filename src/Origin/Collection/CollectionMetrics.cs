using System.Diagnostics.Metrics;
using P2PRegistry.Origin.Diagnostics;

namespace P2PRegistry.Origin.Collection;

/// <summary>The garbage collector's instruments, under the origin's meter.</summary>
internal sealed class CollectionMetrics
{
    private readonly Counter<long> _runs;
    private readonly Counter<long> _blobsRemoved;
    private readonly Counter<long> _bytesRemoved;
    private readonly Counter<long> _evicted;
    private readonly Histogram<double> _duration;
    private long _pullThroughBytes;

    public CollectionMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(OriginMetrics.MeterName);
        _runs = meter.CreateCounter<long>("p2pregistry.origin.gc.runs", "{run}", "Garbage collection passes, by result (ok, dry_run, failed).");
        _blobsRemoved = meter.CreateCounter<long>("p2pregistry.origin.gc.blobs_removed", "{blob}", "Unreferenced blobs removed.");
        _bytesRemoved = meter.CreateCounter<long>("p2pregistry.origin.gc.bytes_removed", "By", "Bytes of unreferenced blobs removed.");
        _evicted = meter.CreateCounter<long>("p2pregistry.origin.gc.manifests_evicted", "{manifest}", "Pulled-through manifests evicted by Origin:PullThroughCacheBytes.");
        _duration = meter.CreateHistogram<double>("p2pregistry.origin.gc.duration", "s", "Time one garbage collection pass took.");
        meter.CreateObservableGauge("p2pregistry.origin.gc.pull_through_bytes", () => Interlocked.Read(ref _pullThroughBytes), "By", "Bytes of pulled-through content kept after the last pass (content also pushed not counted).");
    }

    public void Completed(GcReport report)
    {
        _runs.Add(1, new KeyValuePair<string, object?>("result", report.DryRun ? "dry_run" : "ok"));
        _duration.Record(report.Duration.TotalSeconds);
        Interlocked.Exchange(ref _pullThroughBytes, report.PullThroughBytes);
        if (!report.DryRun)
        {
            _blobsRemoved.Add(report.Removed.Count);
            _bytesRemoved.Add(report.RemovedBytes);
            _evicted.Add(report.Evicted.Count);
        }
    }

    public void Failed() => _runs.Add(1, new KeyValuePair<string, object?>("result", "failed"));
}

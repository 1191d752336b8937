using System.Diagnostics.Metrics;

namespace P2PRegistry.Agent.Diagnostics;

/// <summary>The disk collector's instruments (meter <c>P2PRegistry.Agent</c>, names <c>p2pregistry.agent.gc.*</c>).</summary>
public sealed class GcMetrics
{
    private readonly Counter<long> _runs;
    private readonly Histogram<double> _runDuration;
    private readonly Counter<long> _bytesEvicted;
    private readonly Counter<long> _blobsEvicted;
    private long _bytesUsed;
    private long _fileSystemBytesUsed;
    private long _fileSystemBytes;

    public GcMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(AgentMetrics.MeterName);
        meter.CreateObservableGauge("p2pregistry.agent.gc.bytes_used", () => Interlocked.Read(ref _bytesUsed), "By",
            "Bytes the agent holds under its data folder (cache, partial downloads, manifests, MetaInfo), as of the last collector run.");
        meter.CreateObservableGauge("p2pregistry.agent.gc.filesystem_used", () => Interlocked.Read(ref _fileSystemBytesUsed), "By",
            "Bytes used on the file system holding the data folder (size minus what is available), as of the last collector run.");
        meter.CreateObservableGauge("p2pregistry.agent.gc.filesystem_size", () => Interlocked.Read(ref _fileSystemBytes), "By",
            "Size of the file system holding the data folder.");
        _runs = meter.CreateCounter<long>("p2pregistry.agent.gc.runs", "{run}", "Collector runs (periodic and after a blob entered the cache).");
        _runDuration = meter.CreateHistogram("p2pregistry.agent.gc.run_duration", "s", "Time one collector run took, evictions included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30] });
        _bytesEvicted = meter.CreateCounter<long>("p2pregistry.agent.gc.bytes_evicted", "By", "Bytes the collector removed, by kind: blob (with its MetaInfo), partial_download, manifest.");
        _blobsEvicted = meter.CreateCounter<long>("p2pregistry.agent.gc.blobs_evicted", "{blob}", "Cached blobs the collector evicted (no longer seeded).");
    }

    public void Measured(long bytesUsed, long fileSystemBytesUsed, long fileSystemBytes)
    {
        Interlocked.Exchange(ref _bytesUsed, bytesUsed);
        Interlocked.Exchange(ref _fileSystemBytesUsed, fileSystemBytesUsed);
        Interlocked.Exchange(ref _fileSystemBytes, fileSystemBytes);
    }

    public void Run(TimeSpan duration)
    {
        _runs.Add(1);
        _runDuration.Record(duration.TotalSeconds);
    }

    public void Evicted(string kind, long bytes) => _bytesEvicted.Add(bytes, new KeyValuePair<string, object?>("kind", kind));

    public void BlobEvicted() => _blobsEvicted.Add(1);
}

using System.Diagnostics.Metrics;
using P2PRegistry.Tracker.Diagnostics;

namespace P2PRegistry.Tracker.Peers;

/// <summary>The Redis peer store's instruments, on the tracker's meter.</summary>
internal sealed class RedisPeerStoreMetrics
{
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _errors;

    public RedisPeerStoreMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(TrackerMetrics.MeterName);
        _duration = meter.CreateHistogram<double>("p2pregistry.tracker.store.duration", "s", "Round trips to the Redis peer store, by operation (announce: one script call writing a batch of announces and stops; read, has_swarm, sweep, ping).");
        _errors = meter.CreateCounter<long>("p2pregistry.tracker.store.errors", "{error}", "Redis peer store operations that failed (unreachable, timeout, error reply), by operation.");
    }

    public void Completed(string operation, TimeSpan elapsed) =>
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("operation", operation));

    public void Failed(string operation) => _errors.Add(1, new KeyValuePair<string, object?>("operation", operation));
}

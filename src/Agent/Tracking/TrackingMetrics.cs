using System.Diagnostics.Metrics;
using P2PRegistry.Agent.Diagnostics;

namespace P2PRegistry.Agent.Tracking;

/// <summary>Tracker selection's instruments, on the agent's meter.</summary>
internal sealed class TrackingMetrics
{
    private readonly Counter<long> _failures;

    public TrackingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(AgentMetrics.MeterName);
        _failures = meter.CreateCounter<long>("p2pregistry.agent.tracker.failures", "{call}", "Calls to a tracker that failed (unreachable, timeout, unavailable) and went on to the next tracker, by call (announce, metainfo).");
    }

    public void Failed(string call) => _failures.Add(1, new KeyValuePair<string, object?>("call", call));
}

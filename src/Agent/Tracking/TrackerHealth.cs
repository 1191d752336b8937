using P2PRegistry.Core.Health;

namespace P2PRegistry.Agent.Tracking;

/// <summary>
/// Health of the trackers, learnt from the calls themselves and the readiness probes: a tracker that failed is skipped
/// for <see cref="BaseDelay"/>, doubling with each further failure up to <see cref="MaxDelay"/>, and is healthy
/// again after its first answer (<see cref="PassiveHealth{TKey}"/>). Skipped trackers are still tried when every healthy
/// one has failed. A tracker is <see cref="IsReachable">reachable</see> once it answered (a call or a readiness probe)
/// and until a call to it fails.
/// </summary>
internal sealed class TrackerHealth(TimeProvider time, TimeSpan baseDelay, TimeSpan maxDelay)
{
    private readonly PassiveHealth<string> _health = new(time, baseDelay, maxDelay, StringComparer.Ordinal);
    private readonly HashSet<string> _answered = new(StringComparer.Ordinal);

    public TimeSpan BaseDelay => _health.BaseDelay;

    public TimeSpan MaxDelay => _health.MaxDelay;

    /// <summary>Whether calls should go to this tracker now (it has not failed, or its time out is over).</summary>
    public bool IsAvailable(string tracker) => _health.IsAvailable(tracker);

    /// <summary>Whether this tracker answered its last call or probe (never called yet: not reachable).</summary>
    public bool IsReachable(string tracker)
    {
        lock (_answered)
        {
            return _answered.Contains(tracker);
        }
    }

    /// <summary>Whether any of <paramref name="trackers"/> is <see cref="IsReachable">reachable</see>.</summary>
    public bool AnyReachable(IEnumerable<string> trackers)
    {
        lock (_answered)
        {
            return trackers.Any(_answered.Contains);
        }
    }

    // Failed, Succeeded and Retain change both tables under _answered's lock, so a tracker is never left reachable
    // and skipped at once by two calls that interleave.

    /// <summary>Records a failure; returns how long the tracker is skipped from now.</summary>
    public TimeSpan Failed(string tracker)
    {
        lock (_answered)
        {
            _answered.Remove(tracker);
            return _health.Failed(tracker);
        }
    }

    /// <summary>The tracker answered (a refusal is an answer too): it is healthy again.</summary>
    public void Succeeded(string tracker)
    {
        lock (_answered)
        {
            _health.Succeeded(tracker);
            _answered.Add(tracker);
        }
    }

    /// <summary>Forgets trackers no longer configured, so the table stays as small as the tracker list.</summary>
    public void Retain(IReadOnlyCollection<string> trackers)
    {
        lock (_answered)
        {
            _health.Retain(trackers);
            _answered.RemoveWhere(t => !trackers.Contains(t));
        }
    }
}

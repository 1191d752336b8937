namespace P2PRegistry.Agent.Tracking;

/// <summary>
/// Health of the trackers, learnt from the calls themselves and the readiness probes: a tracker that failed is skipped
/// for <see cref="BaseDelay"/>, doubling with each further failure up to <see cref="MaxDelay"/>, and is healthy
/// again after its first answer. Skipped trackers are still tried when every healthy one has failed. A tracker is
/// <see cref="IsReachable">reachable</see> once it answered (a call or a readiness probe) and until a call to it fails.
/// </summary>
internal sealed class TrackerHealth(TimeProvider time, TimeSpan baseDelay, TimeSpan maxDelay)
{
    private readonly Dictionary<string, State> _states = new(StringComparer.Ordinal);
    private readonly HashSet<string> _answered = new(StringComparer.Ordinal);

    public TimeSpan BaseDelay => baseDelay;

    public TimeSpan MaxDelay => maxDelay;

    /// <summary>Whether calls should go to this tracker now (it has not failed, or its time out is over).</summary>
    public bool IsAvailable(string tracker)
    {
        lock (_states)
        {
            return !_states.TryGetValue(tracker, out var state) || time.GetUtcNow() >= state.RetryAt;
        }
    }

    /// <summary>Whether this tracker answered its last call or probe (never called yet: not reachable).</summary>
    public bool IsReachable(string tracker)
    {
        lock (_states)
        {
            return _answered.Contains(tracker);
        }
    }

    /// <summary>Whether any of <paramref name="trackers"/> is <see cref="IsReachable">reachable</see>.</summary>
    public bool AnyReachable(IEnumerable<string> trackers)
    {
        lock (_states)
        {
            return trackers.Any(_answered.Contains);
        }
    }

    /// <summary>Records a failure; returns how long the tracker is skipped from now.</summary>
    public TimeSpan Failed(string tracker)
    {
        lock (_states)
        {
            _answered.Remove(tracker);
            var failures = _states.TryGetValue(tracker, out var state) ? state.Failures + 1 : 1;
            // 10 s, 20 s, 30 s …: doubling, capped (the shift is capped too, so it cannot overflow).
            var delay = TimeSpan.FromTicks(Math.Min(maxDelay.Ticks, baseDelay.Ticks << Math.Min(failures - 1, 20)));
            _states[tracker] = new State(failures, time.GetUtcNow() + delay);
            return delay;
        }
    }

    /// <summary>The tracker answered (a refusal is an answer too): it is healthy again.</summary>
    public void Succeeded(string tracker)
    {
        lock (_states)
        {
            _states.Remove(tracker);
            _answered.Add(tracker);
        }
    }

    /// <summary>Forgets trackers no longer configured, so the table stays as small as the tracker list.</summary>
    public void Retain(IReadOnlyCollection<string> trackers)
    {
        lock (_states)
        {
            foreach (var tracker in _states.Keys.Where(t => !trackers.Contains(t)).ToList())
            {
                _states.Remove(tracker);
            }

            _answered.RemoveWhere(t => !trackers.Contains(t));
        }
    }

    private readonly record struct State(int Failures, DateTimeOffset RetryAt);
}

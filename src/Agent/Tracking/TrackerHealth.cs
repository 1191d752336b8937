namespace P2PRegistry.Agent.Tracking;

/// <summary>
/// Passive health of the trackers, learnt from the calls themselves (no probes): a tracker that failed is skipped
/// for <see cref="BaseDelay"/>, doubling with each further failure up to <see cref="MaxDelay"/>, and is healthy
/// again after its first answer. Skipped trackers are still tried when every healthy one has failed.
/// </summary>
internal sealed class TrackerHealth(TimeProvider time, TimeSpan baseDelay, TimeSpan maxDelay)
{
    private readonly Dictionary<string, State> _states = new(StringComparer.Ordinal);

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

    /// <summary>Records a failure; returns how long the tracker is skipped from now.</summary>
    public TimeSpan Failed(string tracker)
    {
        lock (_states)
        {
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
        }
    }

    private readonly record struct State(int Failures, DateTimeOffset RetryAt);
}

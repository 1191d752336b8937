namespace P2PRegistry.Core.Health;

/// <summary>
/// Passive health of a set of servers, learnt from the exchanges with them alone (no probes of its own): a server whose
/// exchange failed is <see cref="IsAvailable">unavailable</see> for a skip time that starts at the base delay and doubles
/// with each further failure up to the maximum (equal delays: a fixed skip time; zero: never skipped), and is healthy again after its first
/// success. The one owner of that state for its caller; safe to use from any thread. Holds at most one entry per server
/// that failed and has not succeeded since; <see cref="Retain"/> forgets servers no longer configured.
/// </summary>
public sealed class PassiveHealth<TKey>
    where TKey : notnull
{
    private readonly TimeProvider _time;
    private readonly Dictionary<TKey, State> _failed;

    public PassiveHealth(TimeProvider time, TimeSpan baseDelay, TimeSpan maxDelay, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(baseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, baseDelay);
        _time = time;
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
        _failed = new Dictionary<TKey, State>(comparer);
    }

    public TimeSpan BaseDelay { get; }

    public TimeSpan MaxDelay { get; }

    /// <summary>Whether exchanges should go to <paramref name="server"/> now: it has not failed, or its skip time is over.</summary>
    public bool IsAvailable(TKey server)
    {
        lock (_failed)
        {
            return !_failed.TryGetValue(server, out var state) || _time.GetTimestamp() >= state.RetryAt;
        }
    }

    /// <summary>Whether <paramref name="server"/> failed and has not succeeded since, whether or not its skip time is over.</summary>
    public bool HasFailed(TKey server)
    {
        lock (_failed)
        {
            return _failed.ContainsKey(server);
        }
    }

    /// <summary>Records a failed exchange; returns how long <paramref name="server"/> is skipped from now.</summary>
    public TimeSpan Failed(TKey server)
    {
        lock (_failed)
        {
            var failures = _failed.TryGetValue(server, out var state) ? state.Failures + 1 : 1;
            // base, 2 × base, 4 × base …, capped; compared before shifting, so it cannot overflow.
            var shift = Math.Min(failures - 1, 20);
            var delay = BaseDelay.Ticks > (MaxDelay.Ticks >> shift) ? MaxDelay : TimeSpan.FromTicks(BaseDelay.Ticks << shift);
            var ticks = (long)(delay.Ticks * (double)_time.TimestampFrequency / TimeSpan.TicksPerSecond);
            _failed[server] = new State(failures, _time.GetTimestamp() + ticks);
            return delay;
        }
    }

    /// <summary>An exchange with <paramref name="server"/> succeeded (an answer, even a refusal): it is healthy again.</summary>
    public void Succeeded(TKey server)
    {
        lock (_failed)
        {
            _failed.Remove(server);
        }
    }

    /// <summary>Forgets every server not in <paramref name="servers"/>, so the table stays as small as the server list.</summary>
    public void Retain(IReadOnlyCollection<TKey> servers)
    {
        lock (_failed)
        {
            foreach (var server in _failed.Keys.Where(s => !servers.Contains(s)).ToList())
            {
                _failed.Remove(server);
            }
        }
    }

    private readonly record struct State(int Failures, long RetryAt);
}

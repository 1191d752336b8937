namespace P2PRegistry.Swarm.Bandwidth;

/// <summary>
/// A byte-rate limit (one for ingress and one for egress per node). Tokens refill at
/// <see cref="BytesPerSecond"/> up to <see cref="Burst"/>. A caller takes what it needs at once, running
/// the bucket into debt, and waits until the debt would be repaid: later callers see a deeper debt and
/// wait longer, so concurrent sessions are served in arrival order without a queue.
/// A rate of 0 means unlimited.
/// </summary>
internal sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private double _tokens;
    private long _lastRefill;

    public TokenBucket(long bytesPerSecond, long burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(burst);
        BytesPerSecond = bytesPerSecond;
        Burst = Math.Max(burst, 1);
        _time = time;
        _tokens = Burst;
        _lastRefill = time.GetTimestamp();
    }

    public long BytesPerSecond { get; }

    public long Burst { get; }

    public bool IsUnlimited => BytesPerSecond == 0;

    /// <summary>Tokens available now (negative while in debt).</summary>
    public double Available
    {
        get
        {
            lock (_lock)
            {
                Refill();
                return _tokens;
            }
        }
    }

    /// <summary>Takes <paramref name="count"/> tokens if they are there now.</summary>
    public bool TryTake(int count)
    {
        if (IsUnlimited)
        {
            return true;
        }

        lock (_lock)
        {
            Refill();
            if (_tokens < count)
            {
                return false;
            }

            _tokens -= count;
            return true;
        }
    }

    /// <summary>Takes <paramref name="count"/> tokens, waiting as long as the rate requires.</summary>
    public ValueTask TakeAsync(int count, CancellationToken cancellationToken)
    {
        if (IsUnlimited)
        {
            return ValueTask.CompletedTask;
        }

        TimeSpan wait;
        lock (_lock)
        {
            Refill();
            _tokens -= count;
            if (_tokens >= 0)
            {
                return ValueTask.CompletedTask;
            }

            wait = TimeSpan.FromSeconds(-_tokens / BytesPerSecond);
        }

        return new ValueTask(Task.Delay(wait, _time, cancellationToken));
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_lastRefill, now);
        _lastRefill = now;
        _tokens = Math.Min(Burst, _tokens + (elapsed.TotalSeconds * BytesPerSecond));
    }
}

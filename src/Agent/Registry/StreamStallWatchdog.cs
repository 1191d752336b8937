namespace P2PRegistry.Agent.Registry;

/// <summary>
/// Watches one client stream for progress (bytes written to the client, or the download behind it storing more): once
/// neither came for the timeout,
/// <see cref="Token"/> is cancelled and <see cref="IsStalled"/> is set, so the stream is cut instead of hanging on a
/// source that stopped sending (containerd retries a cut stream; it waits forever on an open one). The timer fires
/// once per timeout at most and is re-armed from the last progress, so a progressing stream costs a timestamp per write.
/// </summary>
internal sealed class StreamStallWatchdog : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly CancellationTokenSource _cancel;
    private readonly ITimer _timer;
    private readonly Func<long>? _sourceProgress;
    private long _lastSource;
    private readonly Lock _lock = new();
    private long _lastProgress;
    private bool _stalled;
    private bool _writing;
    private bool _disposed;

    /// <param name="aborted">The request's own cancellation (the client went away): <see cref="Token"/> follows it.</param>
    /// <param name="sourceProgress">
    /// How far the download behind the stream has got (a count that grows as it stores data), asked once per timeout: a
    /// stream waiting for its next bytes in order while the download stores others (a swarm's pieces arrive in any order,
    /// and a seed may reveal the next one late) is not stalled.
    /// </param>
    public StreamStallWatchdog(TimeSpan timeout, TimeProvider time, CancellationToken aborted, Func<long>? sourceProgress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _time = time;
        _timeout = timeout;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        _lastProgress = time.GetTimestamp();
        _sourceProgress = sourceProgress;
        _lastSource = sourceProgress?.Invoke() ?? 0;
        _timer = time.CreateTimer(static state => ((StreamStallWatchdog)state!).Check(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Cancelled when the stream stalled or the request was aborted.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>True once the stream made no progress for the timeout.</summary>
    public bool IsStalled
    {
        get
        {
            lock (_lock)
            {
                return _stalled;
            }
        }
    }

    /// <summary>Bytes reached the client.</summary>
    public void Progress() => Volatile.Write(ref _lastProgress, _time.GetTimestamp());

    /// <summary>
    /// A write to the client begins: until it ends nothing is a stall of the source (how fast the client reads is
    /// Kestrel's <c>MinResponseDataRate</c> to judge; a client slower than a chunk per timeout is not cut here).
    /// </summary>
    public void WriteStarted() => Volatile.Write(ref _writing, true);

    /// <summary>The write to the client ended: that was progress, and the source's clock runs again.</summary>
    public void WriteFinished()
    {
        Progress();
        Volatile.Write(ref _writing, false);
    }

    private void Check()
    {
        lock (_lock)
        {
            if (_disposed || _stalled)
            {
                return;
            }

            if (_sourceProgress?.Invoke() is { } source && source != _lastSource)
            {
                _lastSource = source;
                Progress();
            }

            var idle = Volatile.Read(ref _writing) ? TimeSpan.Zero : _time.GetElapsedTime(Volatile.Read(ref _lastProgress));
            if (idle < _timeout)
            {
                _timer.Change(_timeout - idle, Timeout.InfiniteTimeSpan);
                return;
            }

            _stalled = true;
        }

        // Outside the lock: cancellation runs the stream's continuations.
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: the stream is over anyway.
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _timer.Dispose();
        _cancel.Dispose();
    }
}

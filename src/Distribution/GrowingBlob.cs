namespace P2PRegistry.Distribution;

/// <summary>
/// A blob being written in order into a file that readers stream from while it grows (a pull-through fill on the
/// origin, a stream from the origin on an agent). The writer reports progress; readers wait for the bytes they need.
/// Until the writer says the whole blob hashed to its digest, the final byte is never readable, so no reader can
/// send all the bytes of a bad blob.
/// </summary>
public sealed class GrowingBlob
{
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _written;
    private long _length = -1;
    private bool _verified;
    private Exception? _failure;

    public GrowingBlob(long length = -1)
    {
        _length = length;

        // Nobody may be left with an unobserved fault when no reader waited for it.
        _ = _completion.Task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    /// <summary>Completes when the writer verified the whole blob; faults with the writer's failure.</summary>
    public Task Completion => _completion.Task;

    public bool IsComplete => _completion.Task.IsCompletedSuccessfully;

    /// <summary>The blob's length, or -1 while unknown.</summary>
    public long Length
    {
        get
        {
            lock (_gate)
            {
                return _length;
            }
        }
    }

    /// <summary>Bytes written so far.</summary>
    public long Written
    {
        get
        {
            lock (_gate)
            {
                return _written;
            }
        }
    }

    /// <summary>How many bytes from the start a reader may send now: all once verified, before that all written but the final byte.</summary>
    public long Readable
    {
        get
        {
            lock (_gate)
            {
                return ReadableLocked();
            }
        }
    }

    /// <summary>
    /// Waits until more than <paramref name="position"/> bytes are readable and returns how many are; throws the writer's
    /// failure unless it came once the blob was verified.
    /// </summary>
    public async ValueTask<long> WaitReadableAsync(long position, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task progress;
            lock (_gate)
            {
                // Verified bytes stay sendable: a writer that failed after verifying (its fsync or its move into the
                // store) leaves nothing bad for a reader that holds the file open.
                if (_failure is not null && !_verified)
                {
                    throw _failure;
                }

                var readable = ReadableLocked();
                if (readable > position)
                {
                    return readable;
                }

                progress = _progress.Task;
            }

            await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void SetLength(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        lock (_gate)
        {
            _length = length;
        }

        Pulse();
    }

    /// <summary><paramref name="count"/> more bytes are in the file.</summary>
    public void Advance(long count)
    {
        lock (_gate)
        {
            _written += count;
        }

        Pulse();
    }

    /// <summary>
    /// The whole blob (<paramref name="length"/> bytes) is written and hashed to its digest: release the held-back byte
    /// now, while the writer still makes the file durable and moves it into its store (<see cref="Complete"/> follows, or
    /// <see cref="Fail"/>). A reader's last byte then waits for the hash, not for an fsync.
    /// </summary>
    public void Verify(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        lock (_gate)
        {
            _length = length;
            _written = length;
            _verified = true;
        }

        Pulse();
    }

    /// <summary>The whole blob (<paramref name="length"/> bytes) is written, verified and stored: release the held-back byte.</summary>
    public void Complete(long length)
    {
        lock (_gate)
        {
            _length = length;
            _written = length;
            _verified = true;
        }

        _completion.TrySetResult();
        Pulse();
    }

    public void Fail(Exception failure)
    {
        lock (_gate)
        {
            _failure ??= failure;
        }

        _completion.TrySetException(failure);
        Pulse();
    }

    private long ReadableLocked() => _verified ? _length : _length <= 0 ? 0 : Math.Min(_written, _length - 1);

    private void Pulse()
    {
        TaskCompletionSource progress;
        lock (_gate)
        {
            progress = _progress;
            _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        progress.TrySetResult();
    }
}

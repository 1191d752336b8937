namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// A blob streamed straight from the origin, in order: what the swarm cannot have yet because the origin is
/// still pulling it through from its upstream. Bytes are sendable as soon as they are on disk; the last ones
/// only once the whole blob hashed to its digest (see <see cref="Registry.MirrorHandler"/>).
/// </summary>
internal sealed class OriginBlobDownload(long length, string path) : IBlobDownload
{
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _written;

    public long Length { get; } = length;

    public string Path { get; } = path;

    public long Written => Interlocked.Read(ref _written);

    public bool IsComplete => _completion.Task.IsCompletedSuccessfully;

    public Task Completion => _completion.Task;

    public async ValueTask<long> WaitReadableAsync(long offset, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task progress;
            lock (_lock)
            {
                if (_written > offset)
                {
                    return _written;
                }

                progress = _progress.Task;
            }

            if (_completion.Task.IsFaulted)
            {
                await _completion.Task.ConfigureAwait(false);
            }

            await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The origin sends in order: there is nothing to put first.</summary>
    public long Prioritize(long offset) => Length;

    /// <summary>The first <paramref name="written"/> bytes are on disk.</summary>
    internal void Advance(long written)
    {
        TaskCompletionSource progress;
        lock (_lock)
        {
            _written = written;
            progress = _progress;
            _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        progress.TrySetResult();
    }

    internal void Complete()
    {
        _completion.TrySetResult();
        Advance(Written);
    }

    internal void Fail(Exception exception)
    {
        _completion.TrySetException(exception);
        _ = _completion.Task.Exception;
        Advance(Written);
    }
}

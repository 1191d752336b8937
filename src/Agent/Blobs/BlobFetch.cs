using P2PRegistry.Core.Content;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// One download of one blob through the swarm, shared by every client that asks for it meanwhile
/// (single-flight): <see cref="Started"/> once the MetaInfo is known and the engine downloads, then
/// <see cref="Cached"/> once the verified blob is in the cache and seeded from there.
/// </summary>
internal sealed class BlobFetch(Digest digest, string registryNamespace)
{
    private readonly TaskCompletionSource<DownloadHandle> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _readers;

    public Digest Digest { get; } = digest;

    public string Namespace { get; } = registryNamespace;

    /// <summary>The download, once the MetaInfo arrived; faults with <see cref="BlobUnavailableException"/>.</summary>
    public Task<DownloadHandle> Started => _started.Task;

    /// <summary>Completes when the blob is verified, in the cache, and seeded; faults when the download failed.</summary>
    public Task Cached => _cached.Task;

    /// <summary>Clients streaming from this download right now.</summary>
    public int Readers => Volatile.Read(ref _readers);

    public void AddReader() => Interlocked.Increment(ref _readers);

    public void RemoveReader() => Interlocked.Decrement(ref _readers);

    internal void SetStarted(DownloadHandle handle) => _started.TrySetResult(handle);

    internal void SetCached() => _cached.TrySetResult();

    internal void Fail(Exception exception)
    {
        _started.TrySetException(exception);
        _cached.TrySetException(exception);

        // Nobody may be awaiting these; observe them so a failure is not reported as unobserved.
        _ = _started.Task.Exception;
        _ = _cached.Task.Exception;
    }
}

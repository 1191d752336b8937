using P2PRegistry.Core.Content;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// One download of one blob through the swarm, shared by every client that asks for it meanwhile
/// (single-flight): <see cref="Started"/> once the bytes have a source (the swarm, or the origin while it
/// pulls the blob through from its upstream), then <see cref="Cached"/> once the verified blob is in the cache
/// and seeded from there.
/// </summary>
/// <remarks>
/// A fetch started for a <c>Range</c> request (<see cref="RangeOnly"/>) downloads only the pieces its readers ask for,
/// until a whole-blob reader joins it (<see cref="MakeWhole"/>); its <see cref="BlobFetcher"/> stops it once it has been
/// idle for <c>Agent:RangeIdleTimeout</c>.
/// </remarks>
internal sealed class BlobFetch(Digest digest, string registryNamespace, string? repository, bool rangeOnly = false)
{
    private readonly TaskCompletionSource<IBlobDownload> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resolved = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _readers;
    private long _joins;
    private long _lastLeft;
    private volatile bool _rangeOnly = rangeOnly;

    public Digest Digest { get; } = digest;

    public string Namespace { get; } = registryNamespace;

    /// <summary>The repository the first client named: the origin needs it to pull a blob through from upstream.</summary>
    public string? Repository { get; } = repository;

    /// <summary>
    /// Completes once the fetch knows where the bytes come from (the tracker had the MetaInfo, or the origin is being
    /// asked to pull the blob through); faults like <see cref="Started"/>. Until then the agent owes containerd a fast miss.
    /// </summary>
    public Task Resolved => _resolved.Task;

    /// <summary>The download, once it has a source; faults with <see cref="BlobUnavailableException"/>.</summary>
    public Task<IBlobDownload> Started => _started.Task;

    /// <summary>Completes when the blob is verified, in the cache, and seeded; faults when the download failed.</summary>
    public Task Cached => _cached.Task;

    /// <summary>Clients streaming from this download right now.</summary>
    public int Readers => Volatile.Read(ref _readers);

    /// <summary>Readers that ever joined: an idle fetch whose count moved was read meanwhile.</summary>
    public long Joins => Interlocked.Read(ref _joins);

    /// <summary>True while the download fetches only the pieces that readers of byte ranges ask for.</summary>
    public bool RangeOnly => _rangeOnly;

    /// <summary>A whole-blob reader joined: the download fetches every piece from now on (its reader tells the swarm).</summary>
    public void MakeWhole() => _rangeOnly = false;

    public void AddReader()
    {
        Interlocked.Increment(ref _joins);
        Interlocked.Increment(ref _readers);
    }

    /// <summary>A reader left at <paramref name="timestamp"/> (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public void RemoveReader(long timestamp)
    {
        Interlocked.Exchange(ref _lastLeft, timestamp);
        Interlocked.Decrement(ref _readers);
    }

    /// <summary>When a reader last left (<see cref="TimeProvider.GetTimestamp"/>); 0 if none did.</summary>
    public long LastLeft => Interlocked.Read(ref _lastLeft);

    internal void SetResolved() => _resolved.TrySetResult();

    internal void SetStarted(IBlobDownload download)
    {
        _resolved.TrySetResult();
        _started.TrySetResult(download);
    }

    internal void SetCached() => _cached.TrySetResult();

    internal void Fail(Exception exception)
    {
        _resolved.TrySetException(exception);
        _started.TrySetException(exception);
        _cached.TrySetException(exception);

        // Nobody may be awaiting these; observe them so a failure is not reported as unobserved.
        _ = _resolved.Task.Exception;
        _ = _started.Task.Exception;
        _ = _cached.Task.Exception;
    }
}

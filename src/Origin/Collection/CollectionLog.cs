namespace P2PRegistry.Origin.Collection;

internal static partial class CollectionLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Garbage collection{DryRunNote}: {Removed} blobs ({RemovedBytes} bytes) removed, {Evicted} pulled-through manifests evicted, {Deferred} unreferenced blobs kept for now; {Blobs} blobs and {Manifests} manifests examined, pulled-through content {PullThroughBytes} bytes; {Seconds:F3} s")]
    public static partial void PassCompleted(ILogger logger, string dryRunNote, int removed, long removedBytes, int evicted, int deferred, int blobs, int manifests, long pullThroughBytes, double seconds);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Garbage collection dry run: would remove {Digest} ({Size} bytes)")]
    public static partial void WouldRemove(ILogger logger, string digest, long size);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Garbage collection dry run: would evict pulled-through manifest {Repository}@{Digest}")]
    public static partial void WouldEvict(ILogger logger, string repository, string digest);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Garbage collection: manifest {Digest} read conservatively ({Reason}); every digest in its bytes is kept")]
    public static partial void Doubtful(ILogger logger, string digest, string reason);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Error, Message = "Garbage collection pass failed; nothing more is removed until the next pass")]
    public static partial void PassFailed(ILogger logger, Exception exception);
}

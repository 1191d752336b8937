using Microsoft.Extensions.Logging;

namespace P2PRegistry.Agent.Diagnostics;

/// <summary>The disk collector's log lines (event ids 100–119).</summary>
internal static partial class GcLog
{
    [LoggerMessage(100, LogLevel.Information, "Disk GC freed {Freed} bytes in {Milliseconds:0.0} ms: {Blobs} blobs ({BlobBytes} bytes), {Partials} partial downloads ({PartialBytes} bytes, {Expired} abandoned), {Manifests} manifests ({ManifestBytes} bytes); agent usage {UsedBefore} → {UsedAfter} bytes, file system {FileSystemBefore:0.0}% → {FileSystemAfter:0.0}% used ({Reason})")]
    public static partial void Collected(ILogger logger, long freed, double milliseconds, int blobs, long blobBytes, int partials, long partialBytes, int expired, int manifests, long manifestBytes,
        long usedBefore, long usedAfter, double fileSystemBefore, double fileSystemAfter, string reason);

    [LoggerMessage(101, LogLevel.Warning, "Disk GC could free only {Freed} of the {Needed} bytes needed ({Reason}): the rest is being read, seeded, downloaded, or younger than Agent:Gc:MinimumAge")]
    public static partial void ShortOfTarget(ILogger logger, long freed, long needed, string reason);

    [LoggerMessage(102, LogLevel.Warning, "Disk GC run failed")]
    public static partial void RunFailed(ILogger logger, Exception exception);

    [LoggerMessage(103, LogLevel.Warning, "Disk GC could not remove {Kind} {Digest}: {Reason}")]
    public static partial void RemoveFailed(ILogger logger, string kind, string digest, string reason);
}

using Microsoft.Extensions.Logging;

namespace P2PRegistry.Origin.Diagnostics;

/// <summary>Every log line the origin writes, source-generated, with stable event ids.</summary>
internal static partial class OriginLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Origin storage at {StoragePath}")]
    public static partial void StorageReady(ILogger logger, string storagePath);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Removed {Count} leftover upload(s) from a previous run")]
    public static partial void LeftoverUploadsRemoved(ILogger logger, int count);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Stored blob {Digest} ({Length} bytes) in {Repository}")]
    public static partial void BlobStored(ILogger logger, string digest, long length, string repository);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Upload {UploadId} to {Repository}: digest mismatch, expected {Expected}, computed {Actual}; nothing stored")]
    public static partial void DigestMismatch(ILogger logger, string uploadId, string repository, string expected, string actual);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Upload {UploadId} to {Repository} expired after {Idle} idle; removed")]
    public static partial void UploadExpired(ILogger logger, string uploadId, string repository, TimeSpan idle);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Upload {UploadId} to {Repository}: client went away after {Length} bytes")]
    public static partial void UploadAborted(ILogger logger, string uploadId, string repository, long length);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "Mounted blob {Digest} from {From} into {Repository}")]
    public static partial void BlobMounted(ILogger logger, string digest, string from, string repository);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Stored manifest {Digest} ({MediaType}, {Length} bytes) in {Repository} as {Reference}")]
    public static partial void ManifestStored(ILogger logger, string digest, string mediaType, int length, string repository, string reference);

    [LoggerMessage(EventId = 22, Level = LogLevel.Debug, Message = "Referrers of {Subject} in {Repository} passed through from upstream {Upstream} ({Length} bytes)")]
    public static partial void ReferrersPassedThrough(ILogger logger, string upstream, string repository, string subject, int length);

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Metainfo of {Digest} computed by re-reading the blob ({Reason})")]
    public static partial void MetaInfoRehashed(ILogger logger, string digest, string reason);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Metainfo file of {Digest} is unreadable; recomputing")]
    public static partial void MetaInfoCorrupt(ILogger logger, string digest, Exception exception);

    [LoggerMessage(EventId = 41, Level = LogLevel.Debug, Message = "Bad request {Method} {Path}: {Reason}")]
    public static partial void BadRequest(ILogger logger, string method, string path, string reason);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "Client {Client} has {Max} uploads open (Origin:MaxUploadSessionsPerClient); another refused")]
    public static partial void UploadSessionsPerClientReached(ILogger logger, string client, int max);

    [LoggerMessage(EventId = 32, Level = LogLevel.Error, Message = "Storage full: a {WritePath} write refused, its partial data removed ({Reason}); {Suppressed} more refused since the last such line")]
    public static partial void StorageFull(ILogger logger, string writePath, string reason, long suppressed);
}

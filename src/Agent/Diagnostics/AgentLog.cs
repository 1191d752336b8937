using Microsoft.Extensions.Logging;

namespace P2PRegistry.Agent.Diagnostics;

internal static partial class AgentLog
{
    [LoggerMessage(1, LogLevel.Information, "Agent mirror on {RegistryUrl}, peers on {PeerEndPoint}, tracker {TrackerUrl}, origin {OriginUrl}, data in {DataPath}")]
    public static partial void Started(ILogger logger, string registryUrl, string peerEndPoint, string trackerUrl, string originUrl, string dataPath);

    [LoggerMessage(2, LogLevel.Debug, "Refused {Method} {Path}: {Reason}")]
    public static partial void BadRequest(ILogger logger, string method, string path, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Fast miss for {Kind} {Reference} (ns {Namespace}): {Reason}")]
    public static partial void FastMiss(ILogger logger, string kind, string reference, string @namespace, string reason);

    [LoggerMessage(30, LogLevel.Warning, "Listing {Target} (ns {Namespace}) unavailable from the origin: {Reason}")]
    public static partial void ListingUnavailable(ILogger logger, string target, string @namespace, string reason);

    [LoggerMessage(4, LogLevel.Information, "Fetching {Digest} ({Length} bytes, {Pieces} pieces) through the swarm")]
    public static partial void FetchStarted(ILogger logger, string digest, long length, int pieces);

    [LoggerMessage(5, LogLevel.Information, "Cached {Digest}: {FromPeers} bytes from peers, {FromOrigins} from origins, seeding it")]
    public static partial void FetchCached(ILogger logger, string digest, long fromPeers, long fromOrigins);

    [LoggerMessage(6, LogLevel.Warning, "Fetch of {Digest} failed")]
    public static partial void FetchFailed(ILogger logger, string digest, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Aborted a response for {Digest}: {Reason}")]
    public static partial void StreamAborted(ILogger logger, string digest, string reason);

    [LoggerMessage(8, LogLevel.Debug, "Manifest {Name}:{Reference} (ns {Namespace}) from the origin: {Digest}")]
    public static partial void ManifestResolved(ILogger logger, string name, string reference, string @namespace, string digest);

    [LoggerMessage(10, LogLevel.Information, "Fetching {Digest} ({Length} bytes) straight from the origin, which pulls {Repository} through from {Namespace}; no origin held it yet")]
    public static partial void FetchFromOrigin(ILogger logger, string digest, long length, string repository, string @namespace);

    [LoggerMessage(11, LogLevel.Error, "The origin's bytes for {Digest} hash to {Actual}: discarded, not cached")]
    public static partial void OriginDigestMismatch(ILogger logger, string digest, string actual);

    [LoggerMessage(12, LogLevel.Information, "Removed {Count} abandoned partial download files from {Folder}")]
    public static partial void DownloadsSwept(ILogger logger, int count, string folder);

    [LoggerMessage(13, LogLevel.Warning, "Could not check or remove the partial download {File}: {Reason}")]
    public static partial void SweepFailed(ILogger logger, string file, string reason);

    [LoggerMessage(14, LogLevel.Warning, "Cut a response for {Digest}: no byte sent for {Seconds} s ({Sent} of {Count} bytes sent), the client may retry")]
    public static partial void StreamStalled(ILogger logger, string digest, double seconds, long sent, long count);

    [LoggerMessage(15, LogLevel.Error, "Cached blob {Digest} is corrupt on disk: {Reason} (found by {FoundBy}); removed from the cache and no longer seeded, the next request fetches it again")]
    public static partial void CachedBlobCorrupt(ILogger logger, string digest, string reason, string foundBy);

    [LoggerMessage(16, LogLevel.Information, "Background check of the cache after the start: {Checked} blobs hashed, {Removed} corrupt ones removed")]
    public static partial void CacheReverified(ILogger logger, int @checked, int removed);

    [LoggerMessage(17, LogLevel.Warning, "Cached blob {Digest} has no usable MetaInfo to check it against: removed from the cache, the next request fetches it again")]
    public static partial void CachedBlobWithoutMetaInfo(ILogger logger, string digest);

    [LoggerMessage(32, LogLevel.Debug, "Range read of {Digest}: serving bytes {Offset}-{Last} from pieces {FirstPiece}-{LastPiece} (with read-ahead), piece-verified, not waiting for the rest of the blob; fetching {Fetch}")]
    public static partial void RangeRead(ILogger logger, string digest, long offset, long last, int firstPiece, int lastPiece, string fetch);

    [LoggerMessage(33, LogLevel.Information, "Closed the idle download of byte ranges of {Digest}: {Verified} of {Pieces} pieces verified, kept on disk for the next request")]
    public static partial void RangeDownloadClosed(ILogger logger, string digest, int verified, int pieces);

    [LoggerMessage(31, LogLevel.Error, "Data folder full: a {WritePath} write failed ({Reason}); nothing of it stays, nothing is cached (a blob is a fast miss for the requests after it, a manifest is served from memory); {Suppressed} more since the last such line")]
    public static partial void DiskFull(ILogger logger, string writePath, string reason, long suppressed);
}

using Microsoft.Extensions.Logging;

namespace P2PRegistry.Origin.Cluster;

internal static partial class ClusterLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Cluster: member {Self} of {Count} ({Members}), replication factor {ReplicationFactor}, authentication {Authentication}")]
    public static partial void Started(ILogger logger, string self, int count, string members, int replicationFactor, string authentication);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Cluster member {Member} failed ({Operation}): {Reason}; skipped for a while")]
    public static partial void MemberFailed(ILogger logger, string member, string operation, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Blob {Digest} copied to {Member} ({Length} bytes, {Reason})")]
    public static partial void BlobCopied(ILogger logger, string digest, string member, long length, string reason);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Blob {Digest} removed here: its owners {Owners} hold it")]
    public static partial void BlobDropped(ILogger logger, string digest, string owners);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "Blob {Digest} has {Copies} of {ReplicationFactor} copies: too few members reachable")]
    public static partial void TooFewCopies(ILogger logger, string digest, int copies, int replicationFactor);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Warning, Message = "Cluster request {Method} {Path} from {Client} refused: no cluster secret or origin certificate")]
    public static partial void Refused(ILogger logger, string method, string path, string client);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Information, Message = "Repair round: {Blobs} blobs checked, {Copies} copies made, {Dropped} local copies removed, {Manifests} manifests sent, {Failures} failures")]
    public static partial void RepairRound(ILogger logger, int blobs, int copies, int dropped, int manifests, int failures);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Warning, Message = "Repair round failed: {Reason}")]
    public static partial void RepairFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Information, Message = "Replica of {Digest} received from a cluster member ({Length} bytes)")]
    public static partial void ReplicaReceived(ILogger logger, string digest, long length);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Warning, Message = "Manifest {Repository}@{Digest} not sent to {Member}; the repair loop retries")]
    public static partial void ManifestNotSent(ILogger logger, string repository, string digest, string member);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "Delete of {Repository}:{Reference} not sent to {Member}; the repair loop retries")]
    public static partial void DeleteNotSent(ILogger logger, string repository, string reference, string member);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Information, Message = "{Repository}:{Reference} deleted here: the cluster deleted it ({Source})")]
    public static partial void DeleteApplied(ILogger logger, string repository, string reference, string source);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Warning, Message = "Cluster member {Member} refused {Operation}: its disk is full (507); the copy is missing there, the member stays up")]
    public static partial void MemberFull(ILogger logger, string member, string operation);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Warning, Message = "Cluster secret sent in clear text to http:// members ({Members}): Origin:Cluster:AllowInsecureSecret=true. Anyone who can watch that network can act as a member; use https members")]
    public static partial void InsecureSecret(ILogger logger, string members);
}

namespace P2PRegistry.Origin.Seeding;

internal static partial class SeedingLog
{
    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "Seeding {Count} stored blobs on demand from peer port {EndPoint} (advertised as {Advertised})")]
    public static partial void Listening(ILogger logger, int count, string endPoint, string advertised);

    [LoggerMessage(EventId = 61, Level = LogLevel.Warning, Message = "Seed index skipped {Path}: {Reason}")]
    public static partial void IndexSkipped(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 62, Level = LogLevel.Error, Message = "Stored blob {Digest} is corrupt on disk (piece {Piece} failed its SHA-1 while seeding): moved to {QuarantinePath}; no longer served until pushed or pulled through again")]
    public static partial void BlobQuarantined(ILogger logger, string digest, int piece, string quarantinePath);

    [LoggerMessage(EventId = 63, Level = LogLevel.Error, Message = "Stored blob {Digest} is corrupt on disk (piece {Piece} failed its SHA-1 while seeding) but could not be moved out of the store: {Reason}")]
    public static partial void BlobQuarantineFailed(ILogger logger, string digest, int piece, string reason);

    [LoggerMessage(EventId = 64, Level = LogLevel.Warning, Message = "Seed of {Digest} from {Path} was corrupt (piece {Piece}), but the stored blob now matches: it was replaced meanwhile, and stays")]
    public static partial void QuarantineSkipped(ILogger logger, string digest, string path, int piece);
}

namespace P2PRegistry.Origin.Seeding;

internal static partial class SeedingLog
{
    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "Seeding {Count} stored blobs on demand from peer port {EndPoint} (advertised as {Advertised})")]
    public static partial void Listening(ILogger logger, int count, string endPoint, string advertised);

    [LoggerMessage(EventId = 61, Level = LogLevel.Warning, Message = "Seed index skipped {Path}: {Reason}")]
    public static partial void IndexSkipped(ILogger logger, string path, string reason);
}

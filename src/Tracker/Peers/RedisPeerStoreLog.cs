namespace P2PRegistry.Tracker.Peers;

internal static partial class RedisPeerStoreLog
{
    [LoggerMessage(EventId = 40, Level = LogLevel.Error, Message = "The Redis peer store is unavailable ({Operation}): {Reason}; announces fail until it is back (logged once per {Period})")]
    public static partial void RedisUnavailable(this ILogger logger, string operation, string reason, TimeSpan period);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "The Redis peer store is available again after {Failures} failed operations")]
    public static partial void RedisRecovered(this ILogger logger, long failures);

    [LoggerMessage(EventId = 42, Level = LogLevel.Information, Message = "Peer store: Redis at {Endpoints}, keys under '{KeyPrefix}'")]
    public static partial void RedisConfigured(this ILogger logger, string endpoints, string keyPrefix);

    [LoggerMessage(EventId = 43, Level = LogLevel.Warning, Message = "Skipped a peer record in Redis that does not decode, in swarm {InfoHash}")]
    public static partial void RedisRecordInvalid(this ILogger logger, string infoHash);
}

using Microsoft.Extensions.Logging;

namespace P2PRegistry.Origin.Upstream;

internal static partial class UpstreamLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Upstream {Upstream}: fetched a token for {Scope} valid {Seconds} s")]
    public static partial void TokenFetched(ILogger logger, string upstream, string scope, int seconds);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Upstream {Upstream}: credentials rejected: {Reason}")]
    public static partial void CredentialsRejected(ILogger logger, string upstream, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Upstream {Upstream}: rate limited (429), retrying in {Seconds:F1} s")]
    public static partial void RateLimited(ILogger logger, string upstream, double seconds);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Upstream {Upstream} unreachable: {Reason}")]
    public static partial void Unreachable(ILogger logger, string upstream, string reason);
}

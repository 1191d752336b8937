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

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Upstream {Upstream}: refusing the plain-http token realm {Realm} (AllowHttp is not set); no credentials sent")]
    public static partial void InsecureRealmRefused(ILogger logger, string upstream, string realm);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Upstream {Upstream}: token realm {Realm} is neither the upstream's host nor one of its TokenRealms: asking it for an anonymous token, credentials withheld")]
    public static partial void UntrustedRealm(ILogger logger, string upstream, string realm);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Upstream {Upstream}: redirect from {From} refused: {Reason}")]
    public static partial void RedirectRefused(ILogger logger, string upstream, string from, string reason);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Upstream {Upstream}: {Reason}")]
    public static partial void ConnectRefused(ILogger logger, string upstream, string reason);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "Upstream {Upstream}: no fill slot free within {Seconds:F1} s ({Max} fills running); blob {Digest} answered 503")]
    public static partial void FillSlotsBusy(ILogger logger, string upstream, string digest, double seconds, int max);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Upstream {Upstream}: pulled manifest {Digest} ({MediaType}, {Length} bytes) for {Repository}:{Reference}")]
    public static partial void ManifestPulled(ILogger logger, string upstream, string digest, string mediaType, int length, string repository, string reference);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "Upstream {Upstream}: tag {Repository}:{Tag} not revalidated ({Reason}); serving the cached {Digest}")]
    public static partial void TagServedFromCache(ILogger logger, string upstream, string repository, string tag, string reason, string digest);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Upstream {Upstream}: manifest {Repository}:{Reference} unavailable and not cached: {Reason}")]
    public static partial void ManifestUnavailable(ILogger logger, string upstream, string repository, string reference, string reason);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Error, Message = "Upstream {Upstream}: manifest {Repository}:{Reference} digest mismatch: expected {Expected}, content is {Actual}; nothing stored")]
    public static partial void ManifestDigestMismatch(ILogger logger, string upstream, string repository, string reference, string expected, string actual);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Information, Message = "Upstream {Upstream}: filling blob {Digest} from {Repository}")]
    public static partial void FillStarted(ILogger logger, string upstream, string digest, string repository);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Information, Message = "Upstream {Upstream}: blob {Digest} ({Length} bytes) verified and stored in {Seconds:F2} s")]
    public static partial void FillCompleted(ILogger logger, string upstream, string digest, long length, double seconds);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "Upstream {Upstream}: fill of blob {Digest} failed, nothing stored: {Reason}")]
    public static partial void FillFailed(ILogger logger, string upstream, string digest, string reason);

    [LoggerMessage(EventId = 3023, Level = LogLevel.Error, Message = "Upstream {Upstream}: blob {Digest} digest mismatch: content is {Actual} ({Length} bytes); nothing stored")]
    public static partial void BlobDigestMismatch(ILogger logger, string upstream, string digest, string actual, long length);
}

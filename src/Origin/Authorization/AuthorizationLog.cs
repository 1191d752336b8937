namespace P2PRegistry.Origin.Authorization;

/// <summary>Push authentication events. User names and client addresses only: never a password, hash or token.</summary>
internal static partial class AuthorizationLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Push credentials refused for user {User} from {Client}")]
    public static partial void CredentialsRefused(ILogger logger, string user, string client);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Push to {Repository} by user {User} refused: outside the user's prefixes")]
    public static partial void OutsidePrefixes(ILogger logger, string repository, string user);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Client {Client} made {Failures} failed credential checks: refused for {RetryAfterSeconds} s")]
    public static partial void ClientThrottled(ILogger logger, string client, int failures, int retryAfterSeconds);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Push user {User} from the htpasswd file has no Origin:Push:Users:{User}:Prefixes entry and may push nowhere")]
    public static partial void UserWithoutPrefixes(ILogger logger, string user);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Push authentication: {Mode}")]
    public static partial void Mode(ILogger logger, string mode);
}

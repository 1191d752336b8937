namespace P2PRegistry.Origin.Authorization;

internal enum PushIdentityKind
{
    /// <summary>Anonymous push is allowed: no credentials asked for.</summary>
    Anonymous,

    /// <summary>No credentials sent: answer with the challenge.</summary>
    Missing,

    /// <summary>Credentials sent and refused.</summary>
    Invalid,

    /// <summary>Too many failed checks from this client: refused without checking.</summary>
    Throttled,

    /// <summary>A verified user.</summary>
    User,
}

/// <summary>The outcome of checking a request's credentials.</summary>
internal readonly record struct PushIdentity(PushIdentityKind Kind, string? Name, TimeSpan RetryAfter)
{
    public static PushIdentity Anonymous => new(PushIdentityKind.Anonymous, null, TimeSpan.Zero);

    public static PushIdentity Missing => new(PushIdentityKind.Missing, null, TimeSpan.Zero);

    public static PushIdentity Invalid => new(PushIdentityKind.Invalid, null, TimeSpan.Zero);

    public static PushIdentity Throttled(TimeSpan retryAfter) => new(PushIdentityKind.Throttled, null, retryAfter);

    public static PushIdentity User(string name) => new(PushIdentityKind.User, name, TimeSpan.Zero);

    /// <summary>Anonymous (allowed) or a verified user.</summary>
    public bool IsAuthenticated => Kind is PushIdentityKind.Anonymous or PushIdentityKind.User;
}

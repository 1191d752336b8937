namespace P2PRegistry.Origin.Upstream;

/// <summary>Why an upstream request could not be completed. Never carries credentials or tokens.</summary>
public enum UpstreamFailure
{
    /// <summary>The upstream could not be reached (refused, DNS, timeout).</summary>
    Unreachable,
    /// <summary>The upstream (or its token service) rejected our credentials or gave no usable token.</summary>
    Unauthorized,
    /// <summary>The upstream kept answering 429 beyond what we are willing to wait.</summary>
    RateLimited,
    /// <summary>The upstream answered something we cannot use (bad token JSON, too many redirects).</summary>
    Protocol,
    /// <summary>The upstream does not have the manifest or blob (404).</summary>
    NotFound,
    /// <summary>The upstream failed the request (5xx or another unexpected status).</summary>
    Failed,
    /// <summary>The upstream's bytes did not hash to the digest they were asked for (or announced with).</summary>
    DigestMismatch,
    /// <summary>The fill or exchange ran out of time.</summary>
    TimedOut,
    /// <summary>The upstream led somewhere its rules forbid (a redirect to plain http or to an internal address).</summary>
    Refused,
    /// <summary>The origin's own disk was full: what the upstream sent could not be stored (nothing of it stays).</summary>
    StorageFull,
}

public sealed class UpstreamException : Exception
{
    public UpstreamException(UpstreamFailure failure, string upstream, string message, Exception? inner = null)
        : base($"Upstream {upstream}: {message}", inner)
    {
        Failure = failure;
        Upstream = upstream;
    }

    public UpstreamFailure Failure { get; }

    public string Upstream { get; }
}

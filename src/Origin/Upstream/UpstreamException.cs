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

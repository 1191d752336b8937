namespace P2PRegistry.Agent.Tracking;

/// <summary>The tracker (or the origin behind it) could not say anything about a blob right now.</summary>
public sealed class MetaInfoUnavailableException : Exception
{
    public MetaInfoUnavailableException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

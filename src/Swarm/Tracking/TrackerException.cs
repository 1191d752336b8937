namespace P2PRegistry.Swarm.Tracking;

/// <summary>A tracker refused an announce or answered something unusable.</summary>
public sealed class TrackerException : Exception
{
    public TrackerException()
    {
    }

    public TrackerException(string message) : base(message)
    {
    }

    public TrackerException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

namespace P2PRegistry.Agent.Tracking;

/// <summary>A tracker probe failed: the reason says whether it did not answer or answered that it does not serve.</summary>
internal sealed class TrackerUnreachableException(string message, Exception? innerException = null) : Exception(message, innerException);

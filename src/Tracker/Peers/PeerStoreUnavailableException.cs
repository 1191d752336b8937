namespace P2PRegistry.Tracker.Peers;

/// <summary>The shared peer store (Redis) could not be reached or did not answer in time; the announce failed, nothing is known to have changed.</summary>
internal sealed class PeerStoreUnavailableException(string message, Exception? innerException = null) : Exception(message, innerException);

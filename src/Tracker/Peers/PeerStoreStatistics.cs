namespace P2PRegistry.Tracker.Peers;

internal readonly record struct PeerStoreStatistics(long Swarms, long Peers);

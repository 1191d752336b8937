namespace P2PRegistry.Tracker.Peers;

/// <summary>The limits of a peer store, resolved from <c>TrackerOptions</c>.</summary>
internal sealed record PeerStoreOptions(
    TimeSpan PeerTtl,
    int MaxSwarms,
    int MaxPeersPerSwarm,
    int MaxPeers = int.MaxValue,
    int MaxPeersPerAddress = int.MaxValue,
    int MaxPeersPerAddressPerSwarm = int.MaxValue);

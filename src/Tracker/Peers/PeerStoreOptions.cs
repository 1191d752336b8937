namespace P2PRegistry.Tracker.Peers;

/// <summary>The limits of a peer store, resolved from <c>TrackerOptions</c>.</summary>
/// <param name="MaxCandidates">
/// The most live peers an announce gets back from the store, taken group by group in the order the handout policy
/// ranks them (complete agents, incomplete agents, origins) and at random inside the group that does not fit whole;
/// the policy picks from these. Bounded, an announce to a swarm of 10,000 costs what one to a swarm of a hundred
/// does; unbounded (the default), the store returns every live peer.
/// </param>
internal sealed record PeerStoreOptions(
    TimeSpan PeerTtl,
    int MaxSwarms,
    int MaxPeersPerSwarm,
    int MaxPeers = int.MaxValue,
    int MaxPeersPerAddress = int.MaxValue,
    int MaxPeersPerAddressPerSwarm = int.MaxValue,
    int MaxCandidates = int.MaxValue);

namespace P2PRegistry.Tracker.Peers;

/// <summary>What an announce did to the store.</summary>
internal enum PeerStoreOutcome
{
    /// <summary>The peer was added or refreshed.</summary>
    Stored,

    /// <summary>The peer was removed (a STOPPED event).</summary>
    Removed,

    /// <summary>The swarm holds its maximum of peers; the peer was not added but still gets a handout.</summary>
    SwarmFull,

    /// <summary>The store holds its maximum of swarms; the swarm was not created.</summary>
    TooManySwarms,
}

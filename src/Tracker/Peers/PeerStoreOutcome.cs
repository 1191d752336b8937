namespace P2PRegistry.Tracker.Peers;

/// <summary>What an announce did to the store.</summary>
internal enum PeerStoreOutcome
{
    /// <summary>The peer was added or refreshed.</summary>
    Stored,

    /// <summary>The peer was removed (a STOPPED event), or was not there.</summary>
    Removed,

    /// <summary>The swarm holds its maximum of live peers; the peer was not added but still gets a handout.</summary>
    SwarmFull,

    /// <summary>The store holds its maximum of swarms; the swarm was not created.</summary>
    TooManySwarms,

    /// <summary>The peer id is registered from another address, which alone may update or stop it; nothing changed.</summary>
    PeerIdOwnedElsewhere,

    /// <summary>The address holds its maximum of peers across swarms; the peer was not added.</summary>
    AddressQuota,

    /// <summary>The address holds its maximum of peers in this swarm; the peer was not added.</summary>
    SwarmAddressQuota,

    /// <summary>The store holds its maximum of peers; the peer was not added.</summary>
    TooManyPeers,
}

namespace P2PRegistry.Tracker.Admission;

/// <summary>Why an announce was refused; each is one value of the <c>reason</c> label of the refusal metric.</summary>
internal enum AnnounceRefusal
{
    /// <summary>An <c>ip</c> other than the source address, from outside <c>Tracker:TrustedProxyNetworks</c>.</summary>
    UntrustedIp,

    /// <summary>An address nobody can dial (unspecified, multicast, broadcast), or loopback from another host.</summary>
    UnroutableAddress,

    /// <summary>The origin role claimed by an announcer that is not an authenticated origin.</summary>
    OriginNotAuthenticated,

    /// <summary>An info hash of no blob the origin holds, as far as the tracker knows.</summary>
    UnknownInfoHash,

    /// <summary>A peer id registered from another address, which only that address may update or stop.</summary>
    PeerIdOwnedElsewhere,

    /// <summary>The source address holds <c>Tracker:MaxPeersPerAddress</c> peers across swarms.</summary>
    AddressQuota,

    /// <summary>The source address holds <c>Tracker:MaxPeersPerAddressPerSwarm</c> peers in this swarm.</summary>
    SwarmAddressQuota,

    /// <summary>The tracker holds <c>Tracker:MaxPeers</c> peers.</summary>
    TooManyPeers,

    /// <summary>A zone or rack label that is too long or has characters outside the label charset.</summary>
    InvalidLocality,

    /// <summary>The shared peer store (Redis) cannot be reached: the announce was not recorded, another tracker or a retry may do it.</summary>
    StoreUnavailable,
}

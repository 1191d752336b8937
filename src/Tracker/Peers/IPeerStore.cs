using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// The peers of every swarm. In memory by default; asynchronous so a shared store (Redis) can take its place
/// when several trackers serve one cluster.
/// </summary>
internal interface IPeerStore
{
    /// <summary>
    /// Adds, refreshes or (on <see cref="AnnounceEvent.Stopped"/>) removes a peer, and returns the swarm's live peers.
    /// A peer id is updated or removed only by an announce from the address that registered it, until it expires.
    /// <paramref name="quotaExempt"/> lifts the per-address quotas (an origin seeds every blob). <paramref name="candidates"/>
    /// bounds the peers returned for this announce (the store's own bound applies too): the handout policy asks for
    /// what it will look at, so an announce to a big swarm reads no more of it than its handout needs.
    /// </summary>
    ValueTask<PeerStoreAnnounceResult> AnnounceAsync(InfoHash infoHash, PeerRecord peer, AnnounceEvent announceEvent, CancellationToken cancellationToken, bool quotaExempt = false, int candidates = int.MaxValue);

    /// <summary>Whether any live peer is in the swarm.</summary>
    ValueTask<bool> HasSwarmAsync(InfoHash infoHash, CancellationToken cancellationToken);

    /// <summary>Drops peers not seen within the TTL and swarms left empty; returns how many peers were dropped.</summary>
    ValueTask<int> SweepAsync(CancellationToken cancellationToken);

    /// <summary>Current counts, for metrics.</summary>
    PeerStoreStatistics GetStatistics();
}

namespace P2PRegistry.Tracker.Peers;

/// <summary>The outcome of an announce and the swarm's peers right after it (the asker included, if stored).</summary>
internal readonly record struct PeerStoreAnnounceResult(PeerStoreOutcome Outcome, IReadOnlyList<PeerRecord> Peers);

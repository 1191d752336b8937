namespace P2PRegistry.Tracker.Peers;

/// <summary>What kind of component a peer is; origins are handed out last so they are not the hot spot.</summary>
internal enum PeerRole
{
    Agent,
    Origin,
}

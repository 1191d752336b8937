namespace P2PRegistry.Swarm.Tracking;

/// <summary>A tracker's answer: peers to connect to, and when to announce again.</summary>
public sealed record AnnounceResult(IReadOnlyList<TrackerPeer> Peers, TimeSpan Interval);

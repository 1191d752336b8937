using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Announcing;

/// <summary>The peers handed out and when to announce again.</summary>
internal sealed record AnnounceResult(IReadOnlyList<PeerRecord> Peers, TimeSpan Interval, TimeSpan MinInterval);

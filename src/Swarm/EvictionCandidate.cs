using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

/// <summary>
/// A connected peer that could make room for a new one: <paramref name="NeverUseful"/> when it never gave or took a
/// block (<paramref name="Since"/> is when it connected), else when it last did.
/// </summary>
internal sealed record EvictionCandidate(PeerSession Session, bool NeverUseful, long Since)
{
    /// <summary>Never-useful peers go first, the longest connected first; then the peers idle longest.</summary>
    public bool IsBefore(EvictionCandidate other) =>
        NeverUseful != other.NeverUseful ? NeverUseful : Since < other.Since;
}

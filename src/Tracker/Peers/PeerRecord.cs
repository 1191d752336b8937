using System.Net;

namespace P2PRegistry.Tracker.Peers;

/// <summary>What the tracker knows about one peer of one swarm, as of its last announce. Immutable: an announce replaces it.</summary>
internal sealed record PeerRecord(
    PeerId Id,
    IPAddress Address,
    int Port,
    PeerRole Role,
    bool Complete,
    long BytesLeft,
    DateTimeOffset LastSeen)
{
    /// <summary>Where the peer sits (zone, rack), as it announced; empty labels when it did not say.</summary>
    public PeerLocality Locality { get; init; } = PeerLocality.Unknown;

    /// <summary>Whether this peer listens at the given address and port (the same peer under a new id after a restart).</summary>
    public bool IsAt(IPAddress address, int port) => Port == port && Address.Equals(address);
}

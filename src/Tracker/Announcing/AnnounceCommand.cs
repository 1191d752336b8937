using System.Net;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Announcing;

/// <summary>One announce, validated, whichever transport (gRPC or BEP 3 HTTP) it came by.</summary>
internal sealed record AnnounceCommand(
    InfoHash InfoHash,
    PeerId PeerId,
    IPAddress Address,
    int Port,
    PeerRole Role,
    bool Complete,
    long BytesLeft,
    AnnounceEvent Event,
    int NumWant)
{
    public PeerLocality Locality { get; init; } = PeerLocality.Unknown;
}

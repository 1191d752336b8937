using System.Net;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Admission;

/// <summary>
/// An announce as its sender put it, well-formed but not yet believed: the address and role are claims that
/// <see cref="AnnounceValidator"/> checks against the sender's <see cref="AnnouncerIdentity"/>.
/// </summary>
internal sealed record AnnounceClaim(
    InfoHash InfoHash,
    PeerId PeerId,
    IPAddress? ClaimedAddress,
    int Port,
    PeerRole ClaimedRole,
    bool Complete,
    long BytesLeft,
    AnnounceEvent Event,
    int NumWant,
    Digest? Digest = null)
{
    /// <summary>The zone and rack the sender says it sits in (gRPC fields 11, 12); BEP 3 announces carry none.</summary>
    public PeerLocality Locality { get; init; } = PeerLocality.Unknown;
}

using System.Net;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.MetaInfos;

/// <summary>
/// A metainfo as the origin served it, with the peer endpoint from which the origin seeds that blob (if it said); with a
/// cluster of origins, <paramref name="OriginPeers"/> are every replica's (the first is <paramref name="OriginPeer"/>).
/// </summary>
internal sealed record OriginMetaInfo(MetaInfo MetaInfo, IPEndPoint? OriginPeer, IReadOnlyList<IPEndPoint>? OriginPeers = null)
{
    public IReadOnlyList<IPEndPoint> AllOriginPeers => OriginPeers ?? (OriginPeer is null ? [] : [OriginPeer]);
}

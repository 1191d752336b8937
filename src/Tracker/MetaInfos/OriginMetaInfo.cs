using System.Net;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.MetaInfos;

/// <summary>A metainfo as the origin served it, with the peer endpoint from which the origin seeds that blob (if it said).</summary>
internal sealed record OriginMetaInfo(MetaInfo MetaInfo, IPEndPoint? OriginPeer);

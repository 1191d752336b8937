using System.Net;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm.Tracking;

/// <summary>A peer as the tracker hands it out. <paramref name="PeerId"/> is absent in compact answers (BEP 23).</summary>
public sealed record TrackerPeer(IPEndPoint EndPoint, PeerId? PeerId = null, bool IsOrigin = false);

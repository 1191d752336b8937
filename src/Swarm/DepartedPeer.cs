using System.Net;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

/// <summary>What this node observed of a peer: the address it reached, the port it dialled or the peer advertised, the id it claimed.</summary>
internal sealed record DepartedPeer(IPAddress? Address, int Port, PeerId PeerId, EndPoint? EndPoint)
{
    public static DepartedPeer Of(PeerSession session) =>
        new(session.RemoteAddress, session.PeerEndPoint?.Port ?? 0, session.RemotePeerId, session.RemoteEndPoint);
}

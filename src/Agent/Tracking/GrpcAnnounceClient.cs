using System.Net;
using Google.Protobuf;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;
using ContractEvent = P2PRegistry.Contracts.Tracker.AnnounceEvent;
using SwarmEvent = P2PRegistry.Swarm.Tracking.AnnounceEvent;

namespace P2PRegistry.Agent.Tracking;

/// <summary>The engine's announces as <c>Tracker.Announce</c> over gRPC, as an agent (role AGENT).</summary>
internal sealed class GrpcAnnounceClient(Contracts.Tracker.Tracker.TrackerClient client, string? announcedAddress) : ITrackerClient
{
    public async Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, SwarmEvent announceEvent, CancellationToken cancellationToken)
    {
        var request = new AnnounceRequest
        {
            InfoHash = ByteString.CopyFrom(infoHash.ToArray()),
            Digest = digest.Value,
            PeerId = ByteString.CopyFrom(peerId.ToArray()),
            Ip = announcedAddress ?? "",
            Port = port,
            Role = PeerRole.Agent,
            Complete = complete,
            BytesLeft = bytesLeft,
            Event = announceEvent switch
            {
                SwarmEvent.Started => ContractEvent.Started,
                SwarmEvent.Completed => ContractEvent.Completed,
                SwarmEvent.Stopped => ContractEvent.Stopped,
                _ => ContractEvent.None,
            },
        };
        var response = await client.AnnounceAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        var peers = new List<TrackerPeer>(response.Peers.Count);
        foreach (var peer in response.Peers)
        {
            if (IPAddress.TryParse(peer.Ip, out var address) && peer.Port is > 0 and <= 65535)
            {
                PeerId? id = peer.PeerId.Length == PeerId.Length ? new PeerId(peer.PeerId.Span) : null;
                peers.Add(new TrackerPeer(new IPEndPoint(address, peer.Port), id, peer.Role == PeerRole.Origin));
            }
        }

        return new AnnounceResult(peers, TimeSpan.FromSeconds(Math.Max(1, response.IntervalSeconds)));
    }
}

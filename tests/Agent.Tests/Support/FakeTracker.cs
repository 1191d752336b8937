using System.Net;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Agent.Tests.Support;

/// <summary>A tracker shared by the agents of one test: every announcer is a peer on 127.0.0.1 at its port.</summary>
internal sealed class FakeTracker : ITrackerClient
{
    private readonly Lock _lock = new();
    private readonly Dictionary<InfoHash, Dictionary<PeerId, (int Port, bool Complete)>> _swarms = [];
    private readonly Dictionary<InfoHash, int> _stopped = [];

    /// <summary>"stopped" announces for <paramref name="infoHash"/> (a node leaving the swarm).</summary>
    public int Stopped(InfoHash infoHash)
    {
        lock (_lock)
        {
            return _stopped.GetValueOrDefault(infoHash);
        }
    }

    /// <summary>Peers that announced <paramref name="infoHash"/> as complete.</summary>
    public int Seeds(InfoHash infoHash)
    {
        lock (_lock)
        {
            return _swarms.TryGetValue(infoHash, out var peers) ? peers.Count(p => p.Value.Complete) : 0;
        }
    }

    public Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_swarms.TryGetValue(infoHash, out var peers))
            {
                peers = [];
                _swarms.Add(infoHash, peers);
            }

            if (announceEvent == AnnounceEvent.Stopped)
            {
                _stopped[infoHash] = _stopped.GetValueOrDefault(infoHash) + 1;
                peers.Remove(peerId);
                return Task.FromResult(new AnnounceResult([], TimeSpan.FromSeconds(1)));
            }

            peers[peerId] = (port, complete);
            var result = peers.Where(p => p.Key != peerId)
                .OrderByDescending(p => p.Value.Complete)
                .Select(p => new TrackerPeer(new IPEndPoint(IPAddress.Loopback, p.Value.Port), p.Key))
                .ToList();
            return Task.FromResult(new AnnounceResult(result, TimeSpan.FromSeconds(1)));
        }
    }
}

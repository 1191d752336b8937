using System.Net;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>A tracker in the test process: every announcer on 127.0.0.1 at its announced port.</summary>
internal sealed class InMemoryTracker : ITrackerClient
{
    private readonly Lock _lock = new();
    private readonly Dictionary<InfoHash, Dictionary<PeerId, (int Port, bool Complete)>> _swarms = [];
    private readonly HashSet<PeerId> _origins = [];
    private readonly List<(InfoHash InfoHash, IPEndPoint EndPoint)> _extraPeers = [];

    /// <summary>Called before each announce: throw or hang to simulate a broken tracker.</summary>
    public Func<CancellationToken, Task>? Fault { get; set; }

    public int AnnounceCount { get; private set; }

    public List<AnnounceEvent> Events { get; } = [];

    public void MarkOrigin(PeerId peerId)
    {
        lock (_lock)
        {
            _origins.Add(peerId);
        }
    }

    /// <summary>A peer the tracker hands out that never announced (a fake peer run by a test).</summary>
    public void AddPeer(InfoHash infoHash, IPEndPoint endPoint)
    {
        lock (_lock)
        {
            _extraPeers.Add((infoHash, endPoint));
        }
    }

    public async Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            AnnounceCount++;
            Events.Add(announceEvent);
        }

        if (Fault is { } fault)
        {
            await fault(cancellationToken);
        }

        lock (_lock)
        {
            if (!_swarms.TryGetValue(infoHash, out var peers))
            {
                peers = [];
                _swarms.Add(infoHash, peers);
            }

            if (announceEvent == AnnounceEvent.Stopped)
            {
                peers.Remove(peerId);
                return new AnnounceResult([], TimeSpan.FromSeconds(1));
            }

            peers[peerId] = (port, complete);
            var result = peers
                .Where(p => p.Key != peerId)
                .OrderByDescending(p => p.Value.Complete)
                .Select(p => new TrackerPeer(new IPEndPoint(IPAddress.Loopback, p.Value.Port), p.Key, _origins.Contains(p.Key)))
                .Concat(_extraPeers.Where(e => e.InfoHash == infoHash).Select(e => new TrackerPeer(e.EndPoint)))
                .ToList();
            return new AnnounceResult(result, TimeSpan.FromSeconds(1));
        }
    }
}

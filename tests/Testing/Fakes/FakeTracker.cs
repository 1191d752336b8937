using System.Net;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Testing.Fakes;

/// <summary>
/// A tracker in the test process, shared by the engines or agents of one test: every announcer is a peer on
/// 127.0.0.1 at its announced port, seeds first. It can also hand out peers that never announced (a scripted
/// peer run by the test) and fail or hang like a broken tracker.
/// </summary>
public sealed class FakeTracker : ITrackerClient
{
    private readonly Lock _lock = new();
    private readonly Dictionary<InfoHash, Dictionary<PeerId, (int Port, bool Complete)>> _swarms = [];
    private readonly Dictionary<InfoHash, int> _stopped = [];
    private readonly HashSet<PeerId> _origins = [];
    private readonly List<(InfoHash InfoHash, IPEndPoint EndPoint)> _extraPeers = [];
    private readonly List<AnnounceEvent> _events = [];
    private readonly Dictionary<InfoHash, List<DateTimeOffset>> _times = [];
    private int _announceCount;
    private int _inFlight;
    private int _peakInFlight;

    /// <summary>Called before each announce: throw or hang to simulate a broken tracker.</summary>
    public Func<CancellationToken, Task>? Fault { get; set; }

    public int AnnounceCount => Volatile.Read(ref _announceCount);

    /// <summary>The clock the time of each announce is read from (<see cref="Times"/>); the system clock unless set.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Announces inside this tracker now (a hanging <see cref="Fault"/> holds them).</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The most announces that were inside this tracker at once.</summary>
    public int PeakInFlight => Volatile.Read(ref _peakInFlight);

    /// <summary>When each announce of <paramref name="infoHash"/> arrived, by <see cref="Clock"/>, in order.</summary>
    public IReadOnlyList<DateTimeOffset> Times(InfoHash infoHash)
    {
        lock (_lock)
        {
            return _times.TryGetValue(infoHash, out var times) ? [.. times] : [];
        }
    }

    /// <summary>The event of every announce so far, in order.</summary>
    public IReadOnlyList<AnnounceEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Hands out <paramref name="peerId"/> flagged as an origin.</summary>
    public void MarkOrigin(PeerId peerId)
    {
        lock (_lock)
        {
            _origins.Add(peerId);
        }
    }

    /// <summary>A peer the tracker hands out that never announced (a scripted peer run by a test).</summary>
    public void AddPeer(InfoHash infoHash, IPEndPoint endPoint)
    {
        lock (_lock)
        {
            _extraPeers.Add((infoHash, endPoint));
        }
    }

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

    public async Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _announceCount);
        lock (_lock)
        {
            _events.Add(announceEvent);
            if (!_times.TryGetValue(infoHash, out var times))
            {
                times = [];
                _times.Add(infoHash, times);
            }

            times.Add(Clock.GetUtcNow());
            _peakInFlight = Math.Max(_peakInFlight, ++_inFlight);
        }

        try
        {
            if (Fault is { } fault)
            {
                await fault(cancellationToken);
            }
        }
        finally
        {
            lock (_lock)
            {
                _inFlight--;
            }
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
                _stopped[infoHash] = _stopped.GetValueOrDefault(infoHash) + 1;
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

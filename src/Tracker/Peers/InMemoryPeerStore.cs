using System.Collections.Concurrent;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// Peers of every swarm in this process. One lock per swarm, so announces to different blobs never contend.
/// Expired peers are dropped lazily on each announce to their swarm and by <see cref="SweepAsync"/> for
/// swarms nobody announces to any more.
/// </summary>
internal sealed class InMemoryPeerStore : IPeerStore
{
    private static readonly PeerRecord[] s_noPeers = [];

    private readonly ConcurrentDictionary<InfoHash, Swarm> _swarms = new();
    private readonly PeerStoreOptions _options;
    private readonly TimeProvider _time;
    private int _swarmCount;
    private long _peerCount;

    public InMemoryPeerStore(PeerStoreOptions options, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.PeerTtl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSwarms, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPeersPerSwarm, 1);
        _options = options;
        _time = time;
    }

    public ValueTask<PeerStoreAnnounceResult> AnnounceAsync(InfoHash infoHash, PeerRecord peer, AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var cutoff = now - _options.PeerTtl;
        peer = peer with { LastSeen = now };

        if (announceEvent == AnnounceEvent.Stopped)
        {
            if (_swarms.TryGetValue(infoHash, out var existing))
            {
                lock (existing)
                {
                    if (existing.Peers.Remove(peer.Id))
                    {
                        Interlocked.Decrement(ref _peerCount);
                    }

                    RemoveIfEmpty(infoHash, existing);
                }
            }

            return new(new PeerStoreAnnounceResult(PeerStoreOutcome.Removed, s_noPeers));
        }

        // A swarm found empty and removed by another thread is marked dead; look it up again.
        while (true)
        {
            if (!_swarms.TryGetValue(infoHash, out var swarm))
            {
                if (!TryReserveSwarm())
                {
                    return new(new PeerStoreAnnounceResult(PeerStoreOutcome.TooManySwarms, s_noPeers));
                }

                swarm = new Swarm();
                if (!_swarms.TryAdd(infoHash, swarm))
                {
                    Interlocked.Decrement(ref _swarmCount);
                    continue;
                }
            }

            lock (swarm)
            {
                if (swarm.Removed)
                {
                    continue;
                }

                Prune(swarm, cutoff);
                var outcome = PeerStoreOutcome.Stored;
                if (swarm.Peers.ContainsKey(peer.Id))
                {
                    swarm.Peers[peer.Id] = peer;
                }
                else if (swarm.Peers.Count < _options.MaxPeersPerSwarm)
                {
                    swarm.Peers.Add(peer.Id, peer);
                    Interlocked.Increment(ref _peerCount);
                }
                else
                {
                    outcome = PeerStoreOutcome.SwarmFull;
                }

                // The snapshot is copied under the lock so the handout policy can run outside it.
                PeerRecord[] peers = swarm.Peers.Count == 0 ? s_noPeers : [.. swarm.Peers.Values];
                RemoveIfEmpty(infoHash, swarm);
                return new(new PeerStoreAnnounceResult(outcome, peers));
            }
        }
    }

    public ValueTask<bool> HasSwarmAsync(InfoHash infoHash, CancellationToken cancellationToken)
    {
        if (!_swarms.TryGetValue(infoHash, out var swarm))
        {
            return new(false);
        }

        var cutoff = _time.GetUtcNow() - _options.PeerTtl;
        lock (swarm)
        {
            foreach (var peer in swarm.Peers.Values)
            {
                if (peer.LastSeen >= cutoff)
                {
                    return new(true);
                }
            }
        }

        return new(false);
    }

    public ValueTask<int> SweepAsync(CancellationToken cancellationToken) => new(Sweep());

    private int Sweep()
    {
        var cutoff = _time.GetUtcNow() - _options.PeerTtl;
        var dropped = 0;
        foreach (var (infoHash, swarm) in _swarms)
        {
            lock (swarm)
            {
                if (swarm.Removed)
                {
                    continue;
                }

                dropped += Prune(swarm, cutoff);
                RemoveIfEmpty(infoHash, swarm);
            }
        }

        return dropped;
    }

    public PeerStoreStatistics GetStatistics() => new(Volatile.Read(ref _swarmCount), Interlocked.Read(ref _peerCount));

    private bool TryReserveSwarm()
    {
        if (Interlocked.Increment(ref _swarmCount) <= _options.MaxSwarms)
        {
            return true;
        }

        Interlocked.Decrement(ref _swarmCount);

        // Full: perhaps only of dead swarms. One synchronous sweep, then one more try.
        Sweep();
        if (Interlocked.Increment(ref _swarmCount) <= _options.MaxSwarms)
        {
            return true;
        }

        Interlocked.Decrement(ref _swarmCount);
        return false;
    }

    // Called with the swarm's lock held.
    private int Prune(Swarm swarm, DateTimeOffset cutoff)
    {
        List<PeerId>? expired = null;
        foreach (var (id, peer) in swarm.Peers)
        {
            if (peer.LastSeen < cutoff)
            {
                (expired ??= []).Add(id);
            }
        }

        if (expired is null)
        {
            return 0;
        }

        foreach (var id in expired)
        {
            swarm.Peers.Remove(id);
        }

        Interlocked.Add(ref _peerCount, -expired.Count);
        return expired.Count;
    }

    // Called with the swarm's lock held: once marked removed, no announce adds to this instance again.
    private void RemoveIfEmpty(InfoHash infoHash, Swarm swarm)
    {
        if (swarm.Peers.Count != 0 || swarm.Removed)
        {
            return;
        }

        swarm.Removed = true;
        if (_swarms.TryRemove(new KeyValuePair<InfoHash, Swarm>(infoHash, swarm)))
        {
            Interlocked.Decrement(ref _swarmCount);
        }
    }

    private sealed class Swarm
    {
        public Dictionary<PeerId, PeerRecord> Peers { get; } = [];

        public bool Removed { get; set; }
    }
}

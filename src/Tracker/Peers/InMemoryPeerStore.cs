using System.Collections.Concurrent;
using System.Net;
using P2PRegistry.Core.MetaInfos;

using P2PRegistry.Hosting;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// Peers of every swarm in this process. One lock per swarm, so announces to different blobs never contend.
/// Expired peers are dropped by <see cref="SweepAsync"/> (the background <see cref="PeerSweeper"/>); an announce
/// never sweeps the store, it only skips expired peers in its handout and, when its swarm is full, drops that
/// swarm's expired peers before deciding there is no room.
/// </summary>
internal sealed class InMemoryPeerStore : IPeerStore
{
    private static readonly PeerRecord[] s_noPeers = [];

    private readonly ConcurrentDictionary<InfoHash, Swarm> _swarms = new();
    private readonly PeerStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly AddressQuota _addresses;
    private int _swarmCount;
    private long _peerCount;

    public InMemoryPeerStore(PeerStoreOptions options, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.PeerTtl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSwarms, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPeersPerSwarm, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPeers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPeersPerAddress, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPeersPerAddressPerSwarm, 1);
        _options = options;
        _time = time;
        _addresses = new AddressQuota(options.MaxPeersPerAddress);
    }

    public ValueTask<PeerStoreAnnounceResult> AnnounceAsync(InfoHash infoHash, PeerRecord peer, AnnounceEvent announceEvent, CancellationToken cancellationToken, bool quotaExempt = false)
    {
        var now = _time.GetUtcNow();
        var cutoff = now - _options.PeerTtl;
        peer = peer with { LastSeen = now };

        if (announceEvent == AnnounceEvent.Stopped)
        {
            return new(Stop(infoHash, peer, cutoff));
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

                var outcome = Store(swarm, peer, cutoff, quotaExempt);

                // The snapshot is copied under the lock so the handout policy can run outside it. A refused
                // announce gets no peers; a swarm created for it and left empty goes again at once.
                var peers = outcome is PeerStoreOutcome.Stored or PeerStoreOutcome.SwarmFull ? LivePeers(swarm, cutoff) : s_noPeers;
                RemoveIfEmpty(infoHash, swarm);
                return new(new PeerStoreAnnounceResult(outcome, peers));
            }
        }
    }

    private PeerStoreAnnounceResult Stop(InfoHash infoHash, PeerRecord peer, DateTimeOffset cutoff)
    {
        if (_swarms.TryGetValue(infoHash, out var swarm))
        {
            lock (swarm)
            {
                if (swarm.Peers.TryGetValue(peer.Id, out var existing))
                {
                    if (existing.LastSeen >= cutoff && !existing.Address.Equals(peer.Address))
                    {
                        return new PeerStoreAnnounceResult(PeerStoreOutcome.PeerIdOwnedElsewhere, s_noPeers);
                    }

                    Remove(swarm, existing);
                }

                RemoveIfEmpty(infoHash, swarm);
            }
        }

        return new PeerStoreAnnounceResult(PeerStoreOutcome.Removed, s_noPeers);
    }

    // Called with the swarm's lock held.
    private PeerStoreOutcome Store(Swarm swarm, PeerRecord peer, DateTimeOffset cutoff, bool quotaExempt)
    {
        if (swarm.Peers.TryGetValue(peer.Id, out var existing))
        {
            if (existing.LastSeen >= cutoff)
            {
                // The id belongs to the address that registered it: anyone else repeating it could move the peer to
                // their own endpoint or (with STOPPED) remove it.
                if (!existing.Address.Equals(peer.Address))
                {
                    return PeerStoreOutcome.PeerIdOwnedElsewhere;
                }

                swarm.Peers[peer.Id] = peer;
                return PeerStoreOutcome.Stored;
            }

            // Expired: the id is free again, and whoever announces it now joins as a new peer.
            Remove(swarm, existing);
        }

        // Full of peers that stopped announcing? Drop those of this swarm first, so stale entries never lock out live ones.
        if (swarm.Peers.Count >= _options.MaxPeersPerSwarm || (!quotaExempt && swarm.CountOf(peer.Address) >= _options.MaxPeersPerAddressPerSwarm))
        {
            Prune(swarm, cutoff);
        }

        if (swarm.Peers.Count >= _options.MaxPeersPerSwarm)
        {
            return PeerStoreOutcome.SwarmFull;
        }

        if (!quotaExempt && swarm.CountOf(peer.Address) >= _options.MaxPeersPerAddressPerSwarm)
        {
            return PeerStoreOutcome.SwarmAddressQuota;
        }

        if (!_addresses.TryTake(peer.Address, quotaExempt))
        {
            return PeerStoreOutcome.AddressQuota;
        }

        if (Interlocked.Increment(ref _peerCount) > _options.MaxPeers)
        {
            Interlocked.Decrement(ref _peerCount);
            _addresses.Release(peer.Address);
            return PeerStoreOutcome.TooManyPeers;
        }

        swarm.Add(peer);
        return PeerStoreOutcome.Stored;
    }

    private static PeerRecord[] LivePeers(Swarm swarm, DateTimeOffset cutoff)
    {
        if (swarm.Peers.Count == 0)
        {
            return s_noPeers;
        }

        var live = new List<PeerRecord>(swarm.Peers.Count);
        foreach (var peer in swarm.Peers.Values)
        {
            if (peer.LastSeen >= cutoff)
            {
                live.Add(peer);
            }
        }

        return [.. live];
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

    public ValueTask<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow() - _options.PeerTtl;
        var dropped = 0;
        foreach (var (infoHash, swarm) in _swarms)
        {
            cancellationToken.ThrowIfCancellationRequested();
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

        return new(dropped);
    }

    public PeerStoreStatistics GetStatistics() => new(Volatile.Read(ref _swarmCount), Interlocked.Read(ref _peerCount));

    /// <summary>Peers <paramref name="address"/> holds across swarms (expired ones until they are swept).</summary>
    internal int PeersOf(IPAddress address) => _addresses.CountOf(address);

    // Full means full: the background sweep frees the places of swarms whose peers all expired.
    private bool TryReserveSwarm()
    {
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
        List<PeerRecord>? expired = null;
        foreach (var peer in swarm.Peers.Values)
        {
            if (peer.LastSeen < cutoff)
            {
                (expired ??= []).Add(peer);
            }
        }

        if (expired is null)
        {
            return 0;
        }

        foreach (var peer in expired)
        {
            Remove(swarm, peer);
        }

        return expired.Count;
    }

    // Called with the swarm's lock held.
    private void Remove(Swarm swarm, PeerRecord peer)
    {
        if (swarm.Remove(peer))
        {
            Interlocked.Decrement(ref _peerCount);
            _addresses.Release(peer.Address);
        }
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
        private readonly Dictionary<IPAddress, int> _byAddress = [];

        public Dictionary<PeerId, PeerRecord> Peers { get; } = [];

        public bool Removed { get; set; }

        // Counted by ClientKey (IPv6 by its /64), as the tracker-wide quota counts.
        public int CountOf(IPAddress address) => _byAddress.GetValueOrDefault(ClientKey.Of(address));

        public void Add(PeerRecord peer)
        {
            Peers.Add(peer.Id, peer);
            var key = ClientKey.Of(peer.Address);
            _byAddress[key] = _byAddress.GetValueOrDefault(key) + 1;
        }

        public bool Remove(PeerRecord peer)
        {
            if (!Peers.Remove(peer.Id))
            {
                return false;
            }

            var key = ClientKey.Of(peer.Address);
            var left = _byAddress[key] - 1;
            if (left == 0)
            {
                _byAddress.Remove(key);
            }
            else
            {
                _byAddress[key] = left;
            }

            return true;
        }
    }
}

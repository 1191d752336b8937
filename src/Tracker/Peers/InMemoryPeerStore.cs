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

    /// <summary>Draws from a sampled group per place in the answer, at most (expired peers are drawn and skipped).</summary>
    private const int MaxDrawFactor = 2;

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
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxCandidates, 1);
        _options = options;
        _time = time;
        _addresses = new AddressQuota(options.MaxPeersPerAddress);
    }

    public ValueTask<PeerStoreAnnounceResult> AnnounceAsync(InfoHash infoHash, PeerRecord peer, AnnounceEvent announceEvent, CancellationToken cancellationToken, bool quotaExempt = false, int candidates = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(candidates, 1);
        var maxCandidates = Math.Min(candidates, _options.MaxCandidates);
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
                var peers = outcome is PeerStoreOutcome.Stored or PeerStoreOutcome.SwarmFull ? swarm.Live(cutoff, maxCandidates) : s_noPeers;
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
                if (swarm.TryGetValue(peer.Id, out var existing))
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
        if (swarm.TryGetValue(peer.Id, out var existing))
        {
            if (existing.LastSeen >= cutoff)
            {
                // The id belongs to the address that registered it: anyone else repeating it could move the peer to
                // their own endpoint or (with STOPPED) remove it.
                if (!existing.Address.Equals(peer.Address))
                {
                    return PeerStoreOutcome.PeerIdOwnedElsewhere;
                }

                swarm.Refresh(peer);
                return PeerStoreOutcome.Stored;
            }

            // Expired: the id is free again, and whoever announces it now joins as a new peer.
            Remove(swarm, existing);
        }

        // Full of peers that stopped announcing? Drop those of this swarm first, so stale entries never lock out live ones.
        if (swarm.Count >= _options.MaxPeersPerSwarm || (!quotaExempt && swarm.CountOf(peer.Address) >= _options.MaxPeersPerAddressPerSwarm))
        {
            Prune(swarm, cutoff);
        }

        if (swarm.Count >= _options.MaxPeersPerSwarm)
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

    public ValueTask<bool> HasSwarmAsync(InfoHash infoHash, CancellationToken cancellationToken)
    {
        if (!_swarms.TryGetValue(infoHash, out var swarm))
        {
            return new(false);
        }

        var cutoff = _time.GetUtcNow() - _options.PeerTtl;
        lock (swarm)
        {
            return new(swarm.AnyLive(cutoff));
        }
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
        var expired = swarm.Expired(cutoff);
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
        if (swarm.Count != 0 || swarm.Removed)
        {
            return;
        }

        swarm.Removed = true;
        if (_swarms.TryRemove(new KeyValuePair<InfoHash, Swarm>(infoHash, swarm)))
        {
            Interlocked.Decrement(ref _swarmCount);
        }
    }

    /// <summary>
    /// One swarm's peers, kept in three dense groups in the order the handout policy ranks them (complete agents,
    /// incomplete agents, origins), each peer's slot knowing its place: add, refresh, move and remove are O(1), and a
    /// random sample costs the sample's size, not the swarm's. Guarded by the swarm's lock.
    /// </summary>
    private sealed class Swarm
    {
        private readonly Dictionary<PeerId, Slot> _slots = [];
        private readonly List<Slot>[] _groups = [[], [], []];
        private readonly Dictionary<IPAddress, int> _byAddress = [];

        public int Count => _slots.Count;

        public bool Removed { get; set; }

        public bool TryGetValue(PeerId id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PeerRecord? peer)
        {
            if (_slots.TryGetValue(id, out var slot))
            {
                peer = slot.Record;
                return true;
            }

            peer = null;
            return false;
        }

        /// <summary>Replaces the record of a peer already here (same id), moving it to its new group if that changed.</summary>
        public void Refresh(PeerRecord peer)
        {
            var slot = _slots[peer.Id];
            slot.Record = peer;
            var group = GroupOf(peer);
            if (group != slot.Group)
            {
                Detach(slot);
                Attach(slot, group);
            }
        }

        // Counted by ClientKey (IPv6 by its /64), as the tracker-wide quota counts.
        public int CountOf(IPAddress address) => _byAddress.GetValueOrDefault(ClientKey.Of(address));

        public void Add(PeerRecord peer)
        {
            var slot = new Slot(peer);
            _slots.Add(peer.Id, slot);
            Attach(slot, GroupOf(peer));
            var key = ClientKey.Of(peer.Address);
            _byAddress[key] = _byAddress.GetValueOrDefault(key) + 1;
        }

        public bool Remove(PeerRecord peer)
        {
            if (!_slots.Remove(peer.Id, out var slot))
            {
                return false;
            }

            Detach(slot);
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

        public bool AnyLive(DateTimeOffset cutoff)
        {
            foreach (var slot in _slots.Values)
            {
                if (slot.Record.LastSeen >= cutoff)
                {
                    return true;
                }
            }

            return false;
        }

        public List<PeerRecord>? Expired(DateTimeOffset cutoff)
        {
            List<PeerRecord>? expired = null;
            foreach (var slot in _slots.Values)
            {
                if (slot.Record.LastSeen < cutoff)
                {
                    (expired ??= []).Add(slot.Record);
                }
            }

            return expired;
        }

        /// <summary>
        /// Up to <paramref name="max"/> live peers, group by group in handout order: every peer of a group that fits
        /// whole, else a uniform sample of it (a partial Fisher–Yates shuffle of the group in place; the order inside a
        /// group means nothing), and none of the groups after it. Expired peers are skipped and the draw goes on past
        /// them, so peers that stopped announcing (until the sweep drops them) take no place of a live one; at most
        /// <see cref="MaxDrawFactor"/> × <paramref name="max"/> draws from a sampled group, so a group of expired peers
        /// costs an announce no more than that.
        /// </summary>
        public PeerRecord[] Live(DateTimeOffset cutoff, int max)
        {
            var size = Math.Min(_slots.Count, max);
            if (size == 0)
            {
                return s_noPeers;
            }

            var live = new PeerRecord[size];
            var count = 0;
            foreach (var group in _groups)
            {
                var whole = group.Count <= size - count;
                var draws = whole ? group.Count : Math.Min(group.Count, MaxDrawFactor * size);
                for (var i = 0; i < draws && count < size; i++)
                {
                    if (!whole)
                    {
                        Swap(group, i, Random.Shared.Next(i, group.Count));
                    }

                    var record = group[i].Record;
                    if (record.LastSeen >= cutoff)
                    {
                        live[count++] = record;
                    }
                }

                if (count == size)
                {
                    break;
                }
            }

            return count == live.Length ? live : live[..count];
        }

        // What the handout policy ranks by: complete agents, incomplete agents, origins (PeerHandoutPolicy).
        private static int GroupOf(PeerRecord peer) => peer.Role == PeerRole.Origin ? 2 : peer.Complete ? 0 : 1;

        private static void Swap(List<Slot> group, int i, int j)
        {
            if (i == j)
            {
                return;
            }

            (group[i], group[j]) = (group[j], group[i]);
            group[i].Position = i;
            group[j].Position = j;
        }

        private void Attach(Slot slot, int group)
        {
            slot.Group = group;
            slot.Position = _groups[group].Count;
            _groups[group].Add(slot);
        }

        // Swap-remove: the group's last slot takes this one's place.
        private void Detach(Slot slot)
        {
            var group = _groups[slot.Group];
            var last = group[^1];
            group[slot.Position] = last;
            last.Position = slot.Position;
            group.RemoveAt(group.Count - 1);
        }

        private sealed class Slot(PeerRecord record)
        {
            public PeerRecord Record { get; set; } = record;

            public int Group { get; set; }

            public int Position { get; set; }
        }
    }
}

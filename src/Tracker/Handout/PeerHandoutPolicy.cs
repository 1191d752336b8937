using System.Net;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Handout;

/// <summary>
/// Chooses which peers of a swarm an asker gets (DESIGN.md §4 "Peer handout"): up to N, never the asker; complete
/// agents before incomplete ones, origins always last so they are not the hot spot, random among equals so load
/// spreads. With locality on and an asker that named its zone: peers in its rack first, then its zone, then peers of
/// other zones (or of none) — only <see cref="HandoutSettings.RemoteShare"/> of the handout, at least one, so data
/// still flows between zones without every peer pulling across; all of the handout when the asker's zone has no one
/// else. The remote ones are the asker's own "bridges": the highest by a mix of the asker's and the peer's ids, the
/// same on every announce (a fresh random pick each time would, over a download's announces, connect the asker to
/// every remote peer) and different from asker to asker (so the load spreads). Pure: the caller gives the candidates
/// and the randomness.
/// </summary>
internal sealed class PeerHandoutPolicy
{
    // Bucket order is hand-out order: [rack complete, rack incomplete, zone complete, zone incomplete,
    // remote complete, remote incomplete, origins]. With an asker's zone, every remote agent goes to the first
    // remote bucket, chosen by affinity, not at random.
    private const int RemoteBucket = 4;
    private const int OriginBucket = 6;
    private const int BucketCount = 7;

    // The buckets of one Select, reused by the next on the same thread (Select never awaits): an announce builds no
    // lists but the handout it returns. Cleared after each use, so they hold no record past it.
    [ThreadStatic]
    private static List<PeerRecord>[]? t_buckets;

    private readonly HandoutSettings _settings;

    public PeerHandoutPolicy(HandoutSettings settings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxPeers, 1);
        if (!(settings.RemoteShare is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.RemoteShare, "RemoteShare must be 0..1.");
        }

        _settings = settings;
    }

    /// <summary>How many peers an asker gets when it asks for <paramref name="numWant"/> (0 or less = the default).</summary>
    public int Limit(int numWant) => numWant <= 0 ? _settings.MaxPeers : Math.Min(numWant, _settings.MaxPeers);

    /// <summary>
    /// How many of a swarm's live peers the store returns for a handout of <paramref name="limit"/> places. The store
    /// answers group by group in this policy's order (complete agents, incomplete agents, origins) with a uniform sample
    /// of the group that does not fit, so without locality the policy needs only the handout itself, the asker (under
    /// its id and, restarted, under an old one at the same address) and the <paramref name="excluded"/> origins it
    /// leaves out for appending them last. With locality it looks for the asker's rack and zone among them: then the
    /// store's own bound (<see cref="int.MaxValue"/> here).
    /// </summary>
    public int Candidates(int limit, PeerLocality? asker, int excluded) =>
        _settings.Locality && asker is { HasZone: true } ? int.MaxValue : limit + 2 + excluded;

    /// <summary>A downloading peer needs new peers soon; a seed only has to stay listed.</summary>
    public TimeSpan IntervalFor(bool complete) => complete ? _settings.SeedingInterval : _settings.DownloadingInterval;

    public TimeSpan MinInterval => _settings.MinInterval;

    /// <summary>
    /// Whether the origin learnt from the metainfo goes at the end of <paramref name="handout"/>: always, unless the
    /// origin's zone is known (<see cref="HandoutSettings.OriginZone"/>), the asker sits in another known zone, and the
    /// handout already holds an agent of the origin's zone — that bridge has the origin in its own handouts, so the
    /// asker's zone gets the data through it instead of every one of its agents pulling across from the origin.
    /// </summary>
    public bool HandsOutOrigin(PeerLocality? asker, IReadOnlyList<PeerRecord> handout)
    {
        var originZone = _settings.OriginZone;
        if (!_settings.Locality || originZone.Length == 0 || asker is not { HasZone: true } || string.Equals(asker.Zone, originZone, StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var peer in handout)
        {
            if (peer.Role == PeerRole.Agent && string.Equals(peer.Locality.Zone, originZone, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>How many places of a handout of <paramref name="limit"/> are kept for remote peers when both kinds exist.</summary>
    internal int RemoteReserve(int limit, int localCount, int remoteCount)
    {
        if (localCount == 0 || remoteCount == 0 || _settings.RemoteShare <= 0)
        {
            return 0;
        }

        var share = Math.Max(1, (int)Math.Round(limit * _settings.RemoteShare, MidpointRounding.AwayFromZero));
        // A handout of one place goes to the nearest peer; otherwise at least one place stays local.
        return Math.Min(Math.Min(share, remoteCount), limit - 1);
    }

    /// <summary>
    /// Remote peers handed out next to <paramref name="localTake"/> local ones: RemoteShare of the whole handout
    /// (r = l · s / (1 − s), rounded up, at least one), every place left when there is no local peer.
    /// </summary>
    internal int RemoteTake(int limit, int localTake, int remoteCount)
    {
        var room = Math.Min(remoteCount, limit - localTake);
        if (localTake == 0 || _settings.RemoteShare >= 1)
        {
            return room;
        }

        if (_settings.RemoteShare <= 0)
        {
            return 0;
        }

        var target = Math.Max(1, (int)Math.Ceiling(localTake * _settings.RemoteShare / (1 - _settings.RemoteShare) - 1e-9));
        return Math.Min(room, target);
    }

    public IReadOnlyList<PeerRecord> Select(
        IReadOnlyList<PeerRecord> candidates,
        PeerId asker,
        IPAddress askerAddress,
        int askerPort,
        int numWant,
        Random random,
        PeerLocality? askerLocality = null,
        IReadOnlyList<IPEndPoint>? excluded = null)
    {
        var buckets = t_buckets ??= NewBuckets();
        try
        {
            return Select(buckets, candidates, asker, askerAddress, askerPort, numWant, random, askerLocality, excluded);
        }
        finally
        {
            foreach (var bucket in buckets)
            {
                bucket.Clear();
            }
        }
    }

    private static List<PeerRecord>[] NewBuckets()
    {
        var buckets = new List<PeerRecord>[BucketCount];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = [];
        }

        return buckets;
    }

    private List<PeerRecord> Select(
        List<PeerRecord>[] buckets,
        IReadOnlyList<PeerRecord> candidates,
        PeerId asker,
        IPAddress askerAddress,
        int askerPort,
        int numWant,
        Random random,
        PeerLocality? askerLocality,
        IReadOnlyList<IPEndPoint>? excluded)
    {
        var limit = Limit(numWant);
        var near = _settings.Locality && askerLocality is { HasZone: true } ? askerLocality : null;
        var localCount = 0;
        var askerKey = PeerRecord.KeyOf(askerAddress);
        Span<UInt128> excludedKeys = excluded is null || excluded.Count <= 8 ? stackalloc UInt128[8] : new UInt128[excluded.Count];
        for (var i = 0; i < (excluded?.Count ?? 0); i++)
        {
            excludedKeys[i] = PeerRecord.KeyOf(excluded![i].Address);
        }

        for (var c = 0; c < candidates.Count; c++)
        {
            var peer = candidates[c];
            // By address too: a restarted peer announces a new id from the same ip:port before its old entry expires.
            if (peer.Id == asker || peer.IsAt(askerKey, askerAddress, askerPort) || IsExcluded(peer, excluded, excludedKeys))
            {
                continue;
            }

            int index;
            if (peer.Role == PeerRole.Origin)
            {
                index = OriginBucket;
            }
            else
            {
                var proximity = near?.ProximityOf(peer.Locality) ?? Proximity.Remote;
                index = near is not null && proximity == Proximity.Remote ? RemoteBucket : (2 * (int)proximity) + (peer.Complete ? 0 : 1);
                if (proximity != Proximity.Remote)
                {
                    localCount++;
                }
            }

            buckets[index].Add(peer);
        }

        var remoteCount = buckets[RemoteBucket].Count + buckets[RemoteBucket + 1].Count;
        var selected = new List<PeerRecord>(Math.Min(limit, candidates.Count));
        if (near is null)
        {
            for (var i = RemoteBucket; i < BucketCount; i++)
            {
                TakeRandom(buckets[i], selected, limit, random);
            }

            return selected;
        }

        var localTake = Math.Min(localCount, limit - RemoteReserve(limit, localCount, remoteCount));
        for (var i = 0; i < RemoteBucket; i++)
        {
            TakeRandom(buckets[i], selected, localTake, random);
        }

        if (localTake == 0)
        {
            // Nobody else in the asker's zone: remote peers are all there is, chosen as without locality.
            TakeRandom(buckets[RemoteBucket], selected, limit, random);
        }
        else
        {
            TakeByAffinity(buckets[RemoteBucket], selected, RemoteTake(limit, localTake, remoteCount), asker);
        }

        TakeRandom(buckets[OriginBucket], selected, limit, random);
        return selected;
    }

    // Indexed: the list is a cluster's few origins, checked for every candidate of every announce.
    private static bool IsExcluded(PeerRecord peer, IReadOnlyList<IPEndPoint>? excluded, ReadOnlySpan<UInt128> keys)
    {
        if (excluded is null)
        {
            return false;
        }

        for (var i = 0; i < excluded.Count; i++)
        {
            if (peer.IsAt(keys[i], excluded[i].Address, excluded[i].Port))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The <paramref name="count"/> peers of <paramref name="bucket"/> with the highest affinity to the asker: a
    /// 64-bit mix (the SplitMix64 finaliser) of the last 8 bytes of both peer ids, which agents fill at random. Cheap
    /// (no hashing of whole ids: it runs for every remote candidate of every announce) and the same on every call.
    /// </summary>
    private static void TakeByAffinity(List<PeerRecord> bucket, List<PeerRecord> selected, int count, PeerId asker)
    {
        if (count <= 0 || bucket.Count == 0)
        {
            return;
        }

        var key = Tail(asker);
        if (count >= bucket.Count)
        {
            bucket.Sort((x, y) => Affinity(key, y.Id).CompareTo(Affinity(key, x.Id)));
            selected.AddRange(bucket);
            return;
        }

        // Partial selection: count is a small share of the handout, so count passes over the bucket beat a sort.
        for (var i = 0; i < count; i++)
        {
            var best = i;
            var bestAffinity = Affinity(key, bucket[i].Id);
            for (var j = i + 1; j < bucket.Count; j++)
            {
                var affinity = Affinity(key, bucket[j].Id);
                if (affinity > bestAffinity)
                {
                    (best, bestAffinity) = (j, affinity);
                }
            }

            (bucket[i], bucket[best]) = (bucket[best], bucket[i]);
            selected.Add(bucket[i]);
        }
    }

    internal static ulong Affinity(ulong askerKey, PeerId peer)
    {
        var z = askerKey ^ Tail(peer);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Tail(PeerId id)
    {
        Span<byte> bytes = stackalloc byte[PeerId.Length];
        id.CopyTo(bytes);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes[(PeerId.Length - 8)..]);
    }

    // A partial Fisher–Yates shuffle: only as many swaps as peers taken, each equally likely to be picked.
    private static void TakeRandom(List<PeerRecord> bucket, List<PeerRecord> selected, int limit, Random random)
    {
        var take = Math.Min(bucket.Count, limit - selected.Count);
        for (var i = 0; i < take; i++)
        {
            var j = random.Next(i, bucket.Count);
            (bucket[i], bucket[j]) = (bucket[j], bucket[i]);
            selected.Add(bucket[i]);
        }
    }
}

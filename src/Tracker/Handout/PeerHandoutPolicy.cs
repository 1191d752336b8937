using System.Net;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Handout;

/// <summary>
/// Chooses which peers of a swarm an asker gets (DESIGN.md §4 "Peer handout"): up to N, never the asker. With
/// locality on, peers in the asker's rack come first, then its zone, then the others, of which a share
/// (<see cref="HandoutSettings.RemoteShare"/>, at least one when any exist) is always kept so data still flows
/// between zones and no zone's swarm is cut off; peers of an unknown zone count as remote. Inside each of those,
/// complete agents before incomplete ones; origins always last so they are not the hot spot; random among equals so
/// load spreads. Pure: the caller gives the candidates and the randomness.
/// </summary>
internal sealed class PeerHandoutPolicy
{
    // Bucket order is hand-out order: [rack complete, rack incomplete, zone complete, zone incomplete,
    // remote complete, remote incomplete, origins].
    private const int RemoteBucket = 4;
    private const int OriginBucket = 6;
    private const int BucketCount = 7;

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

    /// <summary>A downloading peer needs new peers soon; a seed only has to stay listed.</summary>
    public TimeSpan IntervalFor(bool complete) => complete ? _settings.SeedingInterval : _settings.DownloadingInterval;

    public TimeSpan MinInterval => _settings.MinInterval;

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

    public IReadOnlyList<PeerRecord> Select(
        IReadOnlyList<PeerRecord> candidates,
        PeerId asker,
        IPAddress askerAddress,
        int askerPort,
        int numWant,
        Random random,
        PeerLocality? askerLocality = null)
    {
        var limit = Limit(numWant);
        var near = _settings.Locality && askerLocality is { HasZone: true } ? askerLocality : null;
        var buckets = new List<PeerRecord>?[BucketCount];
        var localCount = 0;
        foreach (var peer in candidates)
        {
            // By address too: a restarted peer announces a new id from the same ip:port before its old entry expires.
            if (peer.Id == asker || peer.IsAt(askerAddress, askerPort))
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
                index = (2 * (int)proximity) + (peer.Complete ? 0 : 1);
                if (proximity != Proximity.Remote)
                {
                    localCount++;
                }
            }

            (buckets[index] ??= []).Add(peer);
        }

        var remoteCount = (buckets[RemoteBucket]?.Count ?? 0) + (buckets[RemoteBucket + 1]?.Count ?? 0);
        var localTake = Math.Min(localCount, limit - RemoteReserve(limit, localCount, remoteCount));
        var agentTake = Math.Min(localTake + remoteCount, limit);

        var selected = new List<PeerRecord>(Math.Min(limit, candidates.Count));
        for (var i = 0; i < BucketCount; i++)
        {
            var cap = i < RemoteBucket ? localTake : i < OriginBucket ? agentTake : limit;
            TakeRandom(buckets[i], selected, cap, random);
        }

        return selected;
    }

    // A partial Fisher–Yates shuffle: only as many swaps as peers taken, each equally likely to be picked.
    private static void TakeRandom(List<PeerRecord>? bucket, List<PeerRecord> selected, int limit, Random random)
    {
        if (bucket is null)
        {
            return;
        }

        var take = Math.Min(bucket.Count, limit - selected.Count);
        for (var i = 0; i < take; i++)
        {
            var j = random.Next(i, bucket.Count);
            (bucket[i], bucket[j]) = (bucket[j], bucket[i]);
            selected.Add(bucket[i]);
        }
    }
}

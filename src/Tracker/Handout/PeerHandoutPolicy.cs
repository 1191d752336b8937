using System.Net;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Handout;

/// <summary>
/// Chooses which peers of a swarm an asker gets (DESIGN.md §4 "Peer handout"): up to N, never the asker,
/// complete agents first, then incomplete agents, origins last so they are not the hot spot; random among
/// equals so load spreads. Pure: the caller gives the candidates and the randomness.
/// </summary>
internal sealed class PeerHandoutPolicy
{
    private readonly HandoutSettings _settings;

    public PeerHandoutPolicy(HandoutSettings settings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxPeers, 1);
        _settings = settings;
    }

    /// <summary>How many peers an asker gets when it asks for <paramref name="numWant"/> (0 or less = the default).</summary>
    public int Limit(int numWant) => numWant <= 0 ? _settings.MaxPeers : Math.Min(numWant, _settings.MaxPeers);

    /// <summary>A downloading peer needs new peers soon; a seed only has to stay listed.</summary>
    public TimeSpan IntervalFor(bool complete) => complete ? _settings.SeedingInterval : _settings.DownloadingInterval;

    public TimeSpan MinInterval => _settings.MinInterval;

    public IReadOnlyList<PeerRecord> Select(
        IReadOnlyList<PeerRecord> candidates,
        PeerId asker,
        IPAddress askerAddress,
        int askerPort,
        int numWant,
        Random random)
    {
        var limit = Limit(numWant);
        List<PeerRecord>? completeAgents = null;
        List<PeerRecord>? incompleteAgents = null;
        List<PeerRecord>? origins = null;
        foreach (var peer in candidates)
        {
            // By address too: a restarted peer announces a new id from the same ip:port before its old entry expires.
            if (peer.Id == asker || peer.IsAt(askerAddress, askerPort))
            {
                continue;
            }

            var bucket = peer.Role == PeerRole.Origin ? (origins ??= [])
                : peer.Complete ? (completeAgents ??= [])
                : (incompleteAgents ??= []);
            bucket.Add(peer);
        }

        var selected = new List<PeerRecord>(Math.Min(limit, candidates.Count));
        TakeRandom(completeAgents, selected, limit, random);
        TakeRandom(incompleteAgents, selected, limit, random);
        TakeRandom(origins, selected, limit, random);
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

using System.Text;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.Placement;

namespace P2PRegistry.Agent.Tracking;

/// <summary>
/// The trackers an agent uses, fixed once built (a reload builds a new set). A blob's trackers are ranked by
/// rendezvous hashing of its digest, so every agent with the same list sends a blob's announces (and metainfo requests) to the same tracker (trackers
/// with in-memory peer stores then still see whole swarms) and, when it fails, to the same next one.
/// </summary>
internal sealed class TrackerSet
{
    private readonly RendezvousRing _ring;

    public TrackerSet(IReadOnlyList<TrackerEndpoint> endpoints)
    {
        Endpoints = endpoints;
        _ring = new RendezvousRing([.. endpoints.Select(e => e.Url)]);
    }

    public IReadOnlyList<TrackerEndpoint> Endpoints { get; }

    /// <summary>
    /// The trackers to try for a blob, by its digest: the one key of both its metainfo requests and its announces, so
    /// one tracker both fetches the blob's metainfo from the origin and holds its swarm.
    /// </summary>
    public List<TrackerEndpoint> Order(Digest digest, TrackerHealth health) => Order(Encoding.UTF8.GetBytes(digest.Value), health);

    /// <summary>
    /// The trackers to try for <paramref name="key"/>, in order: the available ones by rank, then those
    /// <paramref name="health"/> skips for now, by rank too (a last resort beats giving up).
    /// </summary>
    public List<TrackerEndpoint> Order(ReadOnlySpan<byte> key, TrackerHealth health)
    {
        var ranked = _ring.Rank(key);
        var order = new List<TrackerEndpoint>(ranked.Length);
        List<TrackerEndpoint>? skipped = null;
        foreach (var index in ranked)
        {
            var endpoint = Endpoints[index];
            if (health.IsAvailable(endpoint.Url))
            {
                order.Add(endpoint);
            }
            else
            {
                (skipped ??= []).Add(endpoint);
            }
        }

        if (skipped is not null)
        {
            order.AddRange(skipped);
        }

        return order;
    }

    /// <summary>A tracker URL as a ring node id (<see cref="RendezvousRing.NodeId"/>: every agent must derive the same id).</summary>
    public static string NodeId(string url) => RendezvousRing.NodeId(url);
}

using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.TrackerLoad.Workload;

/// <summary>
/// Who announces what: <see cref="SwarmCount"/> blobs whose swarm sizes follow a Zipf law (swarm i has
/// <c>max / (i + 1)</c> peers, at least <c>min</c>): a few big swarms (10,000, 5,000, 3,333 …) and many small ones,
/// as a cluster pulling a few popular base layers and many rare ones would have. Peers are nodes: node n has one
/// address (<see cref="NodeAddress"/>) and one peer id and is in every swarm of size &gt; n, so the busiest node is in
/// every swarm, like an agent holding many layers. Pure and deterministic: the same arguments give the same plan.
/// </summary>
internal sealed class WorkloadPlan
{
    private readonly int[] _offsets;

    public WorkloadPlan(int swarms, int maxPeersPerSwarm, int minPeersPerSwarm)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(swarms, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minPeersPerSwarm, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPeersPerSwarm, minPeersPerSwarm);
        // A node's address is 10.x.y.z from its index: at most 2^24 - 2 nodes.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPeersPerSwarm, (1 << 24) - 2);
        Sizes = SwarmSizes(swarms, maxPeersPerSwarm, minPeersPerSwarm);
        _offsets = new int[swarms + 1];
        for (var i = 0; i < swarms; i++)
        {
            _offsets[i + 1] = checked(_offsets[i] + Sizes[i]);
        }
    }

    public IReadOnlyList<int> Sizes { get; }

    public int SwarmCount => Sizes.Count;

    /// <summary>Peers over all swarms (a node in k swarms counts k times: one peer per swarm).</summary>
    public int TotalPeers => _offsets[^1];

    public int MaxPeersPerSwarm => Sizes[0];

    /// <summary>The Zipf sizes, largest first: <c>max(min, round(max / (i + 1)))</c>.</summary>
    public static int[] SwarmSizes(int swarms, int maxPeers, int minPeers)
    {
        var sizes = new int[swarms];
        for (var i = 0; i < swarms; i++)
        {
            sizes[i] = Math.Max(minPeers, (int)Math.Round((double)maxPeers / (i + 1), MidpointRounding.AwayFromZero));
        }

        return sizes;
    }

    /// <summary>The swarm and node of peer <paramref name="index"/> (0 ≤ index &lt; <see cref="TotalPeers"/>); peers are numbered swarm by swarm.</summary>
    public (int Swarm, int Node) PeerAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, TotalPeers);
        var found = Array.BinarySearch(_offsets, index);
        // An exact hit is the first peer of that swarm; otherwise the complement is the first offset past the index.
        var swarm = found >= 0 ? found : ~found - 1;
        // Empty swarms cannot exist (min ≥ 1), so an exact hit never lands on the sentinel at the end.
        return (swarm, index - _offsets[swarm]);
    }

    /// <summary>Node n's address: 10.0.0.1 + n, never loopback (the tracker would refuse it from a proxy's announce).</summary>
    public static string NodeAddress(int node)
    {
        var value = node + 1;
        return string.Create(CultureInfo.InvariantCulture, $"10.{(value >> 16) & 0xFF}.{(value >> 8) & 0xFF}.{value & 0xFF}");
    }

    /// <summary>Node n's peer id: <c>-P2LOAD-</c>, then n, then zeros (20 bytes).</summary>
    public static byte[] NodePeerId(int node)
    {
        var id = new byte[20];
        "-P2LOAD-"u8.CopyTo(id);
        BinaryPrimitives.WriteInt32BigEndian(id.AsSpan(8), node);
        return id;
    }

    /// <summary>
    /// Blob s's metainfo: a made-up 64 MiB blob (1 MiB pieces, piece hashes derived from s) whose digest is the
    /// SHA-256 of its name. Valid as a MetaInfo (the tracker decodes and checks it); no bytes exist behind it, and the
    /// tracker never needs any.
    /// </summary>
    public static MetaInfo BlobMetaInfo(int swarm)
    {
        const int PieceLength = 1024 * 1024;
        const long Length = 64L * PieceLength;
        var digest = Digest.Compute(System.Text.Encoding.ASCII.GetBytes("tracker-load-blob-" + swarm.ToString(CultureInfo.InvariantCulture)));
        var pieces = MetaInfo.CountPieces(Length, PieceLength);
        var hashes = new byte[pieces * 20];
        Span<byte> seed = stackalloc byte[8];
        for (var i = 0; i < pieces; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(seed, swarm);
            BinaryPrimitives.WriteInt32BigEndian(seed[4..], i);
            SHA1.HashData(seed, hashes.AsSpan(i * 20, 20));
        }

        return MetaInfo.Create(digest, Length, PieceLength, hashes);
    }
}

using System.Buffers.Binary;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Placement;

namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>
/// Which pieces this node pulls from peers of other zones on behalf of its zone: each piece goes to exactly one of
/// this node and the local peers it knows, by rendezvous hashing of the piece index over their peer ids. Every node
/// that knows the same local peers computes the same split with no coordination, so the shares are disjoint and cover
/// the blob; a peer that joins or leaves moves only the pieces it ranks first.
/// </summary>
internal static class CrossingShare
{
    /// <summary>
    /// This node's share (<paramref name="self"/>'s pieces), or null when it knows no local peer (every piece is its own
    /// to fetch). Duplicate ids (a peer connected twice) count once.
    /// </summary>
    public static Bitfield? Compute(string self, IEnumerable<string> localPeers, int pieceCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(self);
        List<string> ids = [self];
        foreach (var id in localPeers)
        {
            if (!ids.Contains(id, StringComparer.Ordinal))
            {
                ids.Add(id);
            }
        }

        if (ids.Count == 1)
        {
            return null;
        }

        var ring = new RendezvousRing(ids);
        var share = new Bitfield(pieceCount);
        Span<byte> key = stackalloc byte[4];
        for (var piece = 0; piece < pieceCount; piece++)
        {
            BinaryPrimitives.WriteInt32BigEndian(key, piece);
            if (ring.Top(key, 1)[0] == 0)
            {
                share.Set(piece);
            }
        }

        return share;
    }
}

using System.Buffers.Binary;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Placement;

namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>
/// Which agent of a zone pulls which piece from peers of other zones: each piece goes to exactly one of this node and
/// the local peers it knows, by rendezvous hashing of the piece index over their peer ids. Every node that knows the
/// same local peers computes the same split with no coordination, so the shares are disjoint and cover the blob; a
/// peer that joins or leaves moves only the pieces it ranks first.
/// </summary>
internal sealed class CrossingShare
{
    /// <summary>The owner index of this node (<see cref="OwnerOf"/>).</summary>
    public const int Self = 0;

    /// <summary>At most this many owners (this node and its local peers); more local peers than that share nothing.</summary>
    public const int MaxOwners = ushort.MaxValue;

    private readonly ushort[] _ownerOf;
    private readonly Dictionary<int, int> _ownerOfPeer;

    private CrossingShare(ushort[] ownerOf, Dictionary<int, int> ownerOfPeer, int ownerCount, Bitfield own)
    {
        _ownerOf = ownerOf;
        _ownerOfPeer = ownerOfPeer;
        OwnerCount = ownerCount;
        Own = own;
    }

    /// <summary>How many agents split the pieces (this node and its distinct local peers).</summary>
    public int OwnerCount { get; }

    /// <summary>This node's share: the pieces it pulls across for its zone.</summary>
    public Bitfield Own { get; }

    /// <summary>The owner of a piece: <see cref="Self"/>, or one of the local peers (1 … <see cref="OwnerCount"/> − 1).</summary>
    public int OwnerOf(int piece) => _ownerOf[piece];

    /// <summary>The connected local peers (the swarm's keys) and the owner each is.</summary>
    public IReadOnlyDictionary<int, int> Peers => _ownerOfPeer;

    /// <summary>The owner a connected local peer is (a peer connected twice is one owner), or false when it is none.</summary>
    public bool TryGetOwner(int peer, out int owner) => _ownerOfPeer.TryGetValue(peer, out owner);

    /// <summary>
    /// The split between <paramref name="self"/> and its <paramref name="localPeers"/> (peer id and the swarm's key of
    /// the connection), or null when it knows no local peer (every piece is its own to fetch). Duplicate ids (a peer
    /// connected twice) count once.
    /// </summary>
    public static CrossingShare? Compute(string self, IEnumerable<(string Id, int Peer)> localPeers, int pieceCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(self);
        List<string> ids = [self];
        var ownerOfPeer = new Dictionary<int, int>();
        foreach (var (id, peer) in localPeers)
        {
            var owner = ids.FindIndex(known => string.Equals(known, id, StringComparison.Ordinal));
            if (owner < 0)
            {
                if (ids.Count == MaxOwners)
                {
                    continue;
                }

                owner = ids.Count;
                ids.Add(id);
            }

            if (owner != Self)
            {
                ownerOfPeer[peer] = owner;
            }
        }

        if (ids.Count == 1)
        {
            return null;
        }

        var ring = new RendezvousRing(ids);
        var ownerOf = new int[pieceCount];
        Span<byte> key = stackalloc byte[4];
        for (var piece = 0; piece < pieceCount; piece++)
        {
            BinaryPrimitives.WriteInt32BigEndian(key, piece);
            ownerOf[piece] = ring.Top(key, 1)[0];
        }

        return Of(ownerOf, ids.Count, ownerOfPeer);
    }

    /// <summary>A split given piece by piece: <paramref name="ownerOf"/>[piece] is its owner (0 = this node).</summary>
    public static CrossingShare Of(ReadOnlySpan<int> ownerOf, int ownerCount, IReadOnlyDictionary<int, int> ownerOfPeer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ownerCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ownerCount, MaxOwners);
        var owners = new ushort[ownerOf.Length];
        var own = new Bitfield(ownerOf.Length);
        for (var piece = 0; piece < ownerOf.Length; piece++)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)ownerOf[piece], (uint)ownerCount, nameof(ownerOf));
            owners[piece] = (ushort)ownerOf[piece];
            if (ownerOf[piece] == Self)
            {
                own.Set(piece);
            }
        }

        var peers = new Dictionary<int, int>();
        foreach (var (peer, owner) in ownerOfPeer)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)owner, (uint)ownerCount, nameof(ownerOfPeer));
            peers[peer] = owner;
        }

        return new CrossingShare(owners, peers, ownerCount, own);
    }
}

using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

/// <summary>The locality rule of <see cref="PiecePicker"/>: peers of another zone are asked only for what the zone lacks.</summary>
public sealed class PiecePickerLocalityTests
{
    private const int Block = PiecePicker.DefaultBlockSize;
    private const int PieceLength = 2 * Block;

    private static readonly TimeSpan Wait = PiecePicker.DefaultCrossingWait;

    private static PiecePicker Create(int pieces, TimeProvider? time = null) =>
        new(pieces, PieceLength, (long)pieces * PieceLength, new Random(3), time: time ?? new FakeTimeProvider());

    private static Bitfield Only(int pieces, params int[] set)
    {
        var bits = new Bitfield(pieces);
        foreach (var i in set)
        {
            bits.Set(i);
        }

        return bits;
    }

    // A split of the pieces between this node (owner 0) and its local peers: owner k is the local peer with key 10 + k.
    private static CrossingShare Split(params int[] ownerOf)
    {
        var owners = ownerOf.Max() + 1;
        var peers = Enumerable.Range(1, owners - 1).ToDictionary(owner => 10 + owner, owner => owner);
        return CrossingShare.Of(ownerOf, owners, peers);
    }

    private static Bitfield All(int pieces)
    {
        var bits = new Bitfield(pieces);
        bits.SetAll();
        return bits;
    }

    private static int[] PickedPieces(PiecePicker picker, int peer, Bitfield pieces, bool remote, int max = 64)
    {
        var buffer = new BlockRequest[max];
        var count = picker.Pick(peer, pieces, buffer, remote: remote);
        return buffer[..count].Select(b => b.Piece).Distinct().Order().ToArray();
    }

    [Fact]
    public void Remote_NotAskedForWhatALocalPeerServes()
    {
        var picker = Create(4);
        var local = Only(4, 0, 1);
        picker.AddAvailability(local, unserved: false, local: true);
        picker.AddAvailability(All(4));

        Assert.Equal([2, 3], PickedPieces(picker, peer: 2, All(4), remote: true));
        Assert.Equal([0, 1], PickedPieces(picker, peer: 1, local, remote: false));
    }

    [Fact]
    public void Remote_AskedAgain_WhenTheLocalHolderChokesOrLeaves()
    {
        var picker = Create(4);
        var local = Only(4, 0, 1, 2, 3);
        picker.AddAvailability(local, unserved: false, local: true);
        picker.AddAvailability(All(4));
        Assert.Empty(PickedPieces(picker, peer: 2, All(4), remote: true));

        picker.SetServing(local, serving: false, local: true); // the local peer chokes us
        Assert.Equal([0, 1, 2, 3], PickedPieces(picker, peer: 2, All(4), remote: true));
        picker.Release(2);

        picker.SetServing(local, serving: true, local: true);
        Assert.Empty(PickedPieces(picker, peer: 2, All(4), remote: true));
        picker.RemoveAvailability(local, unserved: false, local: true); // it leaves
        Assert.Equal([0, 1, 2, 3], PickedPieces(picker, peer: 2, All(4), remote: true));
    }

    [Fact]
    public void PeerFoundLocalLater_ItsPiecesLeaveTheRemotePeers()
    {
        var picker = Create(4);
        var peer = Only(4, 1, 3);
        picker.AddAvailability(peer); // counted before its zone was known: serving, not local
        Assert.False(picker.IsHeldLocally(1));

        picker.SetLocal(peer, local: true, serving: true);
        Assert.True(picker.IsHeldLocally(1));
        Assert.Equal([0, 2], PickedPieces(picker, peer: 2, All(4), remote: true));

        picker.Release(2);
        picker.SetLocal(peer, local: false, serving: true);
        Assert.False(picker.IsHeldLocally(3));
        Assert.Equal([0, 1, 2, 3], PickedPieces(picker, peer: 2, All(4), remote: true));
    }

    [Fact]
    public void LocalHave_CountsOnlyWhileServing()
    {
        var picker = Create(2);
        picker.AddAvailability(1, unserved: true, local: true);
        Assert.False(picker.IsHeldLocally(1));
        picker.AddAvailability(1, unserved: false, local: true);
        Assert.True(picker.IsHeldLocally(1));
    }

    [Fact]
    public void Remote_AskedOnlyForTheCrossingShare_OthersWaitForTheirOwner()
    {
        var time = new FakeTimeProvider();
        var picker = Create(8, time);
        picker.AddAvailability(All(8));
        picker.SetCrossingShare(Split(1, 0, 1, 2, 2, 0, 1, 2)); // this node: 1 and 5; owner 1 (peer 11): 0, 2, 6; owner 2 (peer 12): 3, 4, 7

        // Only this node's share crosses; the other pieces are local peers' to fetch across.
        Assert.Equal([1, 5], PickedPieces(picker, peer: 2, All(8), remote: true));

        // Nothing else to do, no local peer serves anything: still nothing crosses before the wait is over.
        var others = Only(8, 0, 2, 3, 4, 6, 7);
        Assert.Empty(PickedPieces(picker, peer: 2, others, remote: true));
        time.Advance(Wait - TimeSpan.FromMilliseconds(1));
        Assert.Empty(PickedPieces(picker, peer: 2, others, remote: true));

        // Owner 1 announces a piece of its share: that piece is fetched inside the zone, never across, and owner 1 keeps
        // the rest of its share for another wait.
        picker.AddAvailability(0, unserved: false, local: true);
        picker.OnLocalHave(11, 0);
        Assert.Equal([0], PickedPieces(picker, peer: 11, Only(8, 0), remote: false));

        // The wait is over for owner 2, which showed nothing (slow or gone): its share crosses; owner 1's does not.
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([3, 4, 7], PickedPieces(picker, peer: 2, others, remote: true));
        Assert.Empty(PickedPieces(picker, peer: 3, Only(8, 2, 6), remote: true));

        time.Advance(Wait);
        Assert.Equal([2, 6], PickedPieces(picker, peer: 3, Only(8, 2, 6), remote: true));
    }

    [Fact]
    public void CrossingWait_OwnersThatKeepShowingProgress_KeepTheirShares_HoweverLongTheirSharesTake()
    {
        // A saturated link between the zones: every owner is behind on its share all along. As long as each shows
        // a piece of its share within every wait, no piece of its share is fetched across by this node.
        var time = new FakeTimeProvider();
        var picker = Create(12, time);
        picker.AddAvailability(All(12));
        picker.SetCrossingShare(Split(0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2));
        var others = Only(12, 1, 2, 4, 5, 7, 8, 10, 11);
        Assert.Equal([0, 3, 6, 9], PickedPieces(picker, peer: 2, All(12), remote: true));

        int[][] progress = [[1, 2], [4, 5], [7, 8]];
        foreach (var pieces in progress)
        {
            time.Advance(Wait - TimeSpan.FromMilliseconds(100));
            foreach (var piece in pieces)
            {
                picker.AddAvailability(piece, unserved: false, local: true);
                picker.OnLocalHave(10 + (piece % 3), piece);
            }

            Assert.Empty(PickedPieces(picker, peer: 3, others, remote: true));
        }

        // A have of another owner's piece is no progress of this owner: owner 2 (peer 12) announces owner 1's piece 10.
        time.Advance(Wait - TimeSpan.FromMilliseconds(100));
        picker.OnLocalHave(12, 10);
        Assert.Empty(PickedPieces(picker, peer: 3, others, remote: true));
        time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal([10, 11], PickedPieces(picker, peer: 3, others, remote: true));
    }

    [Fact]
    public void SetCrossingShare_AnOwnerThatStaysKeepsItsClock_ANewOneStartsWithAFullWait()
    {
        var time = new FakeTimeProvider();
        var picker = Create(6, time);
        picker.AddAvailability(All(6));
        picker.SetCrossingShare(Split(0, 1, 1, 1, 1, 1));
        time.Advance(Wait - TimeSpan.FromMilliseconds(1));

        // Peer 12 joins the zone: the split changes; owner 1 (peer 11) keeps its clock, peer 12 gets a full wait.
        picker.SetCrossingShare(CrossingShare.Of([0, 1, 2, 1, 2, 1], 3, new Dictionary<int, int> { [11] = 1, [12] = 2 }));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([0, 1, 3, 5], PickedPieces(picker, peer: 2, All(6), remote: true));
        picker.Release(2);
        time.Advance(Wait - TimeSpan.FromMilliseconds(2));
        Assert.Equal([0, 1, 3, 5], PickedPieces(picker, peer: 2, All(6), remote: true));
        picker.Release(2);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([0, 1, 2, 3, 4, 5], PickedPieces(picker, peer: 2, All(6), remote: true));
    }

    [Fact]
    public void CrossingWait_NotForOriginsNorLocalPeersNorWithoutAShare()
    {
        var time = new FakeTimeProvider();
        var picker = Create(4, time);
        picker.AddAvailability(All(4), unserved: true); // an origin (it super-seeds: what it shows is all it has for us)

        // No local peer known: every piece is this node's.
        Assert.Equal([0, 1, 2, 3], PickedPieces(picker, peer: 2, All(4), remote: true));
        picker.Release(2);

        picker.SetCrossingShare(Split(0, 1, 1, 1));
        Assert.Equal([0], PickedPieces(picker, peer: 2, All(4), remote: true));
        picker.Release(2);
        var buffer = new BlockRequest[64];
        var count = picker.Pick(9, All(4), buffer, origin: true, remote: true);
        Assert.Equal([0, 1, 2, 3], buffer[..count].Select(b => b.Piece).Distinct().Order().ToArray());
        picker.Release(9);

        Assert.Equal([0, 1, 2, 3], PickedPieces(picker, peer: 1, All(4), remote: false));
    }

    [Fact]
    public void CrossingWait_Zero_CrossesAtOnce()
    {
        var picker = new PiecePicker(4, PieceLength, 4L * PieceLength, new Random(3), time: new FakeTimeProvider(), crossingWait: TimeSpan.Zero);
        picker.AddAvailability(All(4));
        picker.SetCrossingShare(Split(0, 1, 1, 1));
        Assert.Equal([0, 1, 2, 3], PickedPieces(picker, peer: 2, All(4), remote: true));
    }

    [Fact]
    public void CrossingWait_Negative_Refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PiecePicker(4, PieceLength, 4L * PieceLength, new Random(3), crossingWait: TimeSpan.FromSeconds(-1)));

    [Fact]
    public void CrossingShare_DoesNotLimitLocalPeers()
    {
        var picker = Create(4);
        var local = All(4);
        picker.AddAvailability(local, unserved: false, local: true);
        picker.SetCrossingShare(Split(0, 1, 1, 1));

        Assert.Equal([0, 1, 2, 3], PickedPieces(picker, peer: 1, local, remote: false));
    }

    [Fact]
    public void Endgame_NoRemoteDuplicateOfALocallyHeldPiece()
    {
        var picker = Create(2);
        picker.AddAvailability(All(2), unserved: false, local: true);
        picker.AddAvailability(All(2));
        Assert.Equal([0, 1], PickedPieces(picker, peer: 1, All(2), remote: false));
        Assert.True(picker.IsEndgame);

        Assert.Empty(PickedPieces(picker, peer: 2, All(2), remote: true));
        Assert.Equal([0, 1], PickedPieces(picker, peer: 3, All(2), remote: false));
    }
}

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
        picker.SetCrossingShare(Only(8, 1, 5));

        // Only this node's share crosses; the other pieces are local peers' to fetch across.
        Assert.Equal([1, 5], PickedPieces(picker, peer: 2, All(8), remote: true));

        // Nothing else to do, no local peer serves anything: still nothing crosses before the wait is over.
        Assert.Empty(PickedPieces(picker, peer: 2, Only(8, 2, 3, 4, 6, 7), remote: true));
        time.Advance(Wait - TimeSpan.FromMilliseconds(1));
        Assert.Empty(PickedPieces(picker, peer: 2, Only(8, 2, 3, 4, 6, 7), remote: true));

        // The owners' haves arrive for two of them: those are fetched inside the zone, never across.
        var owner = Only(8, 2, 3);
        picker.AddAvailability(owner, unserved: false, local: true);
        Assert.Equal([2, 3], PickedPieces(picker, peer: 1, owner, remote: false));

        // The wait is over and nobody announced the rest (an owner slow or gone): they cross.
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([4, 6, 7], PickedPieces(picker, peer: 2, Only(8, 2, 3, 4, 6, 7), remote: true));
    }

    [Fact]
    public void CrossingWait_CountsFromWhenThePieceCouldFirstCross()
    {
        var time = new FakeTimeProvider();
        var picker = Create(8, time);
        picker.AddAvailability(All(8));
        picker.SetCrossingShare(Only(8, 0));
        Assert.Equal([0], PickedPieces(picker, peer: 2, Only(8, 0, 1), remote: true));
        Assert.Empty(PickedPieces(picker, peer: 4, Only(8, 1), remote: true));

        // Piece 2 shows up at a remote peer only later: its own wait starts then.
        time.Advance(Wait / 2);
        Assert.Empty(PickedPieces(picker, peer: 3, Only(8, 2), remote: true));
        time.Advance(Wait / 2);
        Assert.Equal([1], PickedPieces(picker, peer: 2, Only(8, 1, 2), remote: true));
        Assert.Empty(PickedPieces(picker, peer: 3, Only(8, 2), remote: true));

        time.Advance(Wait / 2);
        Assert.Equal([2], PickedPieces(picker, peer: 3, Only(8, 2), remote: true));
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

        picker.SetCrossingShare(Only(4, 0));
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
        picker.SetCrossingShare(Only(4, 0));
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
        picker.SetCrossingShare(Only(4, 0));

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

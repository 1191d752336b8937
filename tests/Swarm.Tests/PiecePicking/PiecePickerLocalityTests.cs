using P2PRegistry.Core.Pieces;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

/// <summary>The locality rule of <see cref="PiecePicker"/>: peers of another zone are asked only for what the zone lacks.</summary>
public sealed class PiecePickerLocalityTests
{
    private const int Block = PiecePicker.DefaultBlockSize;
    private const int PieceLength = 2 * Block;

    private static PiecePicker Create(int pieces) => new(pieces, PieceLength, (long)pieces * PieceLength, new Random(3));

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
    public void Remote_AskedOnlyForTheCrossingShare_UntilNothingElseIsLeft()
    {
        var picker = Create(8);
        picker.AddAvailability(All(8));
        picker.SetCrossingShare(Only(8, 1, 5));

        // The share first; the other pieces are local peers' shares.
        Assert.Equal([1, 5], PickedPieces(picker, peer: 2, All(8), remote: true));

        // None of the share left at that peer, but a local peer serves a piece this node lacks: nothing crosses.
        picker.AddAvailability(Only(8, 0), unserved: false, local: true);
        Assert.True(picker.HasLocalWork());
        Assert.Empty(PickedPieces(picker, peer: 2, Only(8, 2, 3, 4, 6, 7), remote: true));

        // Nothing to fetch inside the zone either: another's share crosses (its owner may be slow or cut off).
        picker.RemoveAvailability(Only(8, 0), unserved: false, local: true);
        Assert.False(picker.HasLocalWork());
        Assert.Equal([2, 3, 4, 6, 7], PickedPieces(picker, peer: 2, Only(8, 2, 3, 4, 6, 7), remote: true));
    }

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

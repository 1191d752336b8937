using P2PRegistry.Core.Pieces;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

public sealed class RevealOrderTests
{
    private static Bitfield Bits(int pieces, params int[] set)
    {
        var bits = new Bitfield(pieces);
        foreach (var piece in set)
        {
            bits.Set(piece);
        }

        return bits;
    }

    [Fact]
    public void Pick_AllEqual_FirstPieceTheFirstOfTheBlob()
    {
        var order = new RevealOrder(8);

        Assert.Equal(0, order.Pick(Bits(8), Bits(8), skip: 0, hasPending: false));
    }

    [Fact]
    public void Pick_NeverAPieceThePeerHoldsOrWasShown()
    {
        var order = new RevealOrder(4);

        Assert.Equal(3, order.Pick(revealed: Bits(4, 0, 2), pieces: Bits(4, 1), skip: 0, hasPending: true));
        Assert.Equal(-1, order.Pick(revealed: Bits(4, 0, 2), pieces: Bits(4, 1, 3), skip: 0, hasPending: false));
    }

    [Fact]
    public void Pick_FewestCopiesFirst_ThenFewestHolders()
    {
        var order = new RevealOrder(4);
        order.Shown(0, timestamp: 1);
        order.Shown(1, timestamp: 1);
        order.AddHolder(2);

        // 3: no copy, no holder. Then 2 (no copy, one holder) before 0 and 1 (a copy each).
        Assert.Equal(3, order.Pick(Bits(4), Bits(4), skip: 0, hasPending: false));
        Assert.Equal(2, order.Pick(Bits(4, 3), Bits(4), skip: 0, hasPending: false));

        order.CopyReturned(1); // the peer shown it got it elsewhere: no copy of ours spent
        Assert.Equal(0, order.CopiesOf(1));
        Assert.Equal(1, order.Pick(Bits(4, 3), Bits(4), skip: 0, hasPending: false));
    }

    [Fact]
    public void Pick_Skip_ThePieceThatFarOnAmongEquals()
    {
        var order = new RevealOrder(10);

        Assert.Equal(4, order.Pick(Bits(10), Bits(10), skip: 4, hasPending: true));
        Assert.Equal(5, order.Pick(Bits(10, 0), Bits(10), skip: 4, hasPending: true));
    }

    [Fact]
    public void Pick_SkipBeyondWhatIsLeft_PeerWithNothingPendingGetsTheLast_PeerWithPendingWaits()
    {
        var order = new RevealOrder(10);
        var revealed = Bits(10, 0, 1, 2, 3, 4, 5, 6);

        Assert.Equal(9, order.Pick(revealed, Bits(10), skip: 5, hasPending: false));
        Assert.Equal(-1, order.Pick(revealed, Bits(10), skip: 5, hasPending: true));
    }

    [Fact]
    public void Pick_RoundTwo_ShownLongestAgoFirst_NotTheLowestIndex()
    {
        var order = new RevealOrder(3);
        order.Shown(2, timestamp: 10);
        order.Shown(0, timestamp: 20);
        order.Shown(1, timestamp: 30);

        Assert.Equal(2, order.Pick(Bits(3), Bits(3), skip: 0, hasPending: true));
        Assert.Equal(0, order.Pick(Bits(3, 2), Bits(3), skip: 0, hasPending: true));
    }

    [Fact]
    public void Pick_RoundTwo_SlowPeerWithPiecesPending_Waits()
    {
        var order = new RevealOrder(2);
        order.Shown(0, timestamp: 1);
        order.Shown(1, timestamp: 2);

        Assert.Equal(-1, order.Pick(Bits(2), Bits(2), skip: 3, hasPending: true));
        Assert.Equal(0, order.Pick(Bits(2), Bits(2), skip: 3, hasPending: false));
    }

    [Fact]
    public void AddHolders_RemoveHolders_CountPeersThatHoldEachPiece_NeverBelowZero()
    {
        var order = new RevealOrder(4);
        var pieces = Bits(4, 1, 3);
        order.AddHolders(pieces);
        order.AddHolders(Bits(4, 3));
        Assert.Equal([0, 1, 0, 2], Enumerable.Range(0, 4).Select(order.AvailabilityOf));

        order.RemoveHolders(pieces);
        order.RemoveHolders(pieces);
        Assert.Equal([0, 0, 0, 0], Enumerable.Range(0, 4).Select(order.AvailabilityOf));
    }

    [Fact]
    public void Constructor_NegativePieceCount_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new RevealOrder(-1));

    [Fact]
    public void Pick_TentativeReveals_SpreadPeersNotYetInterestedButDoNotKeepTheFrontFromAPeerThatIs()
    {
        var order = new RevealOrder(8);
        var none = new Bitfield(8);
        order.ShownTentatively(0);
        order.ShownTentatively(1);

        // Another peer that has not said interested is shown other pieces; one that has is shown the front.
        Assert.Equal(2, order.Pick(none, none, skip: 0, hasPending: false, countTentative: true));
        Assert.Equal(0, order.Pick(none, none, skip: 0, hasPending: false));

        // Once its peer says interested, a tentative reveal is a copy like any other.
        order.Confirm(0, shownAt: 5);
        Assert.Equal(1, order.CopiesOf(0));
        Assert.Equal(1, order.Pick(none, none, skip: 0, hasPending: false));
        order.TentativeReturned(1);
        Assert.Equal(1, order.Pick(none, none, skip: 0, hasPending: false, countTentative: true));
    }
}

using P2PRegistry.Core.Pieces;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

public sealed class SuperSeederTests
{
    private const int PieceSize = 64 * 1024;

    private static SuperSeeder Create(int pieces, int atOnce) => new(pieces, atOnce, _ => PieceSize);

    private static List<int> AddPeer(SuperSeeder seeder, int peer, Bitfield pieces)
    {
        var revealed = new List<int>();
        seeder.AddPeer(peer, pieces, revealed);
        return revealed;
    }

    private static List<int> SendWhole(SuperSeeder seeder, int peer, int piece)
    {
        var revealed = new List<int>();
        for (var sent = 0; sent < PieceSize; sent += 16 * 1024)
        {
            seeder.OnBlockSent(peer, piece, 16 * 1024, revealed);
        }

        return revealed;
    }

    [Fact]
    public void RevealBudget_LonePeerGetsItAll_ManyShareIt_EachKeepingTheMinimum()
    {
        var seeder = new SuperSeeder(64, revealAtOnce: 2, _ => PieceSize, revealBudget: 8);
        var first = AddPeer(seeder, 1, new Bitfield(64));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], first);

        // More peers: the budget is shared by however many there are when a peer is shown more (8 / 2, 8 / 3, 8 / 4),
        // never below the minimum of two.
        Assert.Equal(4, AddPeer(seeder, 2, new Bitfield(64)).Count);
        Assert.Equal(2, AddPeer(seeder, 3, new Bitfield(64)).Count);
        Assert.Equal(2, AddPeer(seeder, 4, new Bitfield(64)).Count);

        // Peer 1 holds 8 pending: pieces it is sent reveal nothing new until it is down to its share.
        for (var i = 0; i < 6; i++)
        {
            Assert.Empty(SendWhole(seeder, 1, first[i]));
        }

        Assert.Single(SendWhole(seeder, 1, first[6]));

        // Peers leave: the one left gets the budget back as its pieces are sent.
        seeder.RemovePeer(2);
        seeder.RemovePeer(3);
        seeder.RemovePeer(4);
        Assert.Equal(7, SendWhole(seeder, 1, first[7]).Count);
        Assert.Equal(8, seeder.PendingFor(1).Count);
    }

    [Fact]
    public void AddPeer_RevealsAtOnceDistinctPieces()
    {
        var seeder = Create(16, atOnce: 4);
        var shown = AddPeer(seeder, 1, new Bitfield(16));

        Assert.Equal(4, shown.Count);
        Assert.Equal(4, shown.Distinct().Count());
        Assert.Equal(4, seeder.RevealedTo(1).SetCount);
        Assert.All(shown, p => Assert.Equal(1, seeder.CopiesOf(p)));
    }

    [Fact]
    public void TwoPeers_ShownDisjointPiecesUntilAllWentOutOnce()
    {
        var seeder = Create(8, atOnce: 2);
        var first = AddPeer(seeder, 1, new Bitfield(8));
        var second = AddPeer(seeder, 2, new Bitfield(8));
        Assert.Empty(first.Intersect(second));

        // Every copy sent is a new piece while unsent ones are left.
        var sentTo1 = new List<int>(first);
        var sentTo2 = new List<int>(second);
        var next1 = SendWhole(seeder, 1, first[0]);
        var next2 = SendWhole(seeder, 2, second[0]);
        var next1b = SendWhole(seeder, 1, first[1]);
        var next2b = SendWhole(seeder, 2, second[1]);
        var all = first.Concat(second).Concat(next1).Concat(next2).Concat(next1b).Concat(next2b).ToList();

        Assert.Equal(8, all.Count);
        Assert.Equal(8, all.Distinct().Count());
    }

    [Fact]
    public void RoundOne_BlobShownFrontToBack()
    {
        var seeder = Create(8, atOnce: 2);
        Assert.Equal([0, 1], AddPeer(seeder, 1, new Bitfield(8)));
        Assert.Equal([2, 3], AddPeer(seeder, 2, new Bitfield(8)));
        Assert.Equal([4], SendWhole(seeder, 1, 0));
        Assert.Equal([5], SendWhole(seeder, 2, 3));
    }

    [Fact]
    public void OnBlockSent_PartOfPiece_NothingNew()
    {
        var seeder = Create(8, atOnce: 1);
        var shown = AddPeer(seeder, 1, new Bitfield(8));
        var revealed = new List<int>();
        seeder.OnBlockSent(1, shown[0], PieceSize - 1, revealed);
        Assert.Empty(revealed);

        seeder.OnBlockSent(1, shown[0], 1, revealed);
        Assert.Single(revealed);
        Assert.NotEqual(shown[0], revealed[0]);
        Assert.Equal(1, seeder.CopiesOf(shown[0])); // the copy went over the uplink
    }

    [Fact]
    public void OnHave_PendingPieceGotElsewhere_CopyNotCountedAndNextShown()
    {
        var seeder = Create(8, atOnce: 1);
        var pieces = new Bitfield(8);
        var shown = AddPeer(seeder, 1, pieces);
        pieces.Set(shown[0]); // the session updates the bitfield, then tells the seeder
        var revealed = new List<int>();
        seeder.OnHave(1, shown[0], revealed);

        Assert.Equal(0, seeder.CopiesOf(shown[0]));
        Assert.Equal(1, seeder.AvailabilityOf(shown[0]));
        Assert.Single(revealed);
        Assert.Equal([revealed[0]], seeder.PendingFor(1));
    }

    [Fact]
    public void Reveal_NeverAPieceThePeerHas()
    {
        var seeder = Create(4, atOnce: 4);
        var pieces = new Bitfield(4);
        pieces.Set(0);
        pieces.Set(2);
        var shown = AddPeer(seeder, 1, pieces);

        Assert.Equal([1, 3], shown.Order());
    }

    [Fact]
    public void EqualCopies_LeastHeldPieceFirst()
    {
        var seeder = Create(4, atOnce: 1);
        var pieces = new Bitfield(4);
        var pending = AddPeer(seeder, 1, pieces)[0];
        var got = Enumerable.Range(0, 4).First(p => p != pending);
        pieces.Set(got); // peer 1 got another piece from a peer: one holder, no copy of ours
        var revealed = new List<int>();
        seeder.OnHave(1, got, revealed);
        Assert.Empty(revealed); // its one pending piece is still pending

        var shown = AddPeer(seeder, 2, new Bitfield(4));

        Assert.DoesNotContain(got, shown); // held by a peer already
        Assert.DoesNotContain(pending, shown); // a copy already handed out
    }

    [Fact]
    public void RemovePeer_PendingCopiesReturned()
    {
        var seeder = Create(4, atOnce: 2);
        var shown = AddPeer(seeder, 1, new Bitfield(4));
        seeder.RemovePeer(1);

        Assert.All(shown, p => Assert.Equal(0, seeder.CopiesOf(p)));
        Assert.Equal(0, seeder.PeerCount);
    }

    [Fact]
    public void AfterBitfield_PendingPieceAlreadyHeld_Settled()
    {
        var seeder = Create(8, atOnce: 2);
        var pieces = new Bitfield(8);
        var shown = AddPeer(seeder, 1, pieces);
        seeder.BeforeBitfield(1);
        pieces.Set(shown[0]);
        var revealed = new List<int>();
        seeder.AfterBitfield(1, revealed);

        Assert.Equal(0, seeder.CopiesOf(shown[0]));
        Assert.Single(revealed);
        Assert.DoesNotContain(shown[0], seeder.PendingFor(1));
        Assert.Equal(2, seeder.PendingFor(1).Count);
    }

    [Fact]
    public void PeerHasEverything_NothingRevealed()
    {
        var seeder = Create(3, atOnce: 2);
        var all = new Bitfield(3);
        all.SetAll();

        Assert.Empty(AddPeer(seeder, 1, all));
    }
}

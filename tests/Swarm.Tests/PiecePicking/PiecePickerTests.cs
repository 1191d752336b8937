using P2PRegistry.Core.Pieces;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

public sealed class PiecePickerTests
{
    private const int Block = PiecePicker.DefaultBlockSize;
    private const int PieceLength = 4 * Block;

    private static PiecePicker Create(int pieces, int seed = 7, long? length = null) =>
        new(pieces, PieceLength, length ?? (long)pieces * PieceLength, new Random(seed));

    private static Bitfield All(int pieces)
    {
        var bits = new Bitfield(pieces);
        bits.SetAll();
        return bits;
    }

    private static Bitfield Only(int pieces, params int[] set)
    {
        var bits = new Bitfield(pieces);
        foreach (var i in set)
        {
            bits.Set(i);
        }

        return bits;
    }

    private static BlockRequest[] Pick(PiecePicker picker, int peer, Bitfield pieces, int max)
    {
        var buffer = new BlockRequest[max];
        return buffer.AsSpan(0, picker.Pick(peer, pieces, buffer)).ToArray();
    }

    [Fact]
    public void Pick_NewPieces_RarestFirst()
    {
        var picker = Create(8);
        picker.AddAvailability(All(8));
        picker.AddAvailability(All(8));
        picker.AddAvailability(Only(8, 0, 1, 2, 3, 4, 6, 7)); // piece 5 is held by two peers only
        var blocks = Pick(picker, 1, All(8), 4);

        Assert.Equal(4, blocks.Length);
        Assert.All(blocks, b => Assert.Equal(5, b.Piece));
        Assert.Equal([0, Block, 2 * Block, 3 * Block], blocks.Select(b => b.Offset));
    }

    [Fact]
    public void Pick_EquallyRare_RandomAcrossPickers()
    {
        var first = new HashSet<int>();
        for (var seed = 0; seed < 40; seed++)
        {
            var picker = Create(16, seed);
            picker.AddAvailability(All(16));
            first.Add(Pick(picker, 1, All(16), 1)[0].Piece);
        }

        // 40 draws among 16 equally rare pieces: a fixed order would give one piece.
        Assert.True(first.Count >= 8, $"only {first.Count} distinct first pieces");
    }

    [Fact]
    public void Pick_OnlyPiecesThePeerHas()
    {
        var picker = Create(8);
        var peer = Only(8, 6);
        picker.AddAvailability(peer);
        var blocks = Pick(picker, 1, peer, 100);
        Assert.Equal(4, blocks.Length);
        Assert.All(blocks, b => Assert.Equal(6, b.Piece));
    }

    [Fact]
    public void Pick_RarestFirst_AcrossWordBoundaries_SkipsHadAndStartedPieces()
    {
        // 200 pieces span four 64-bit words; the rarest pieces sit at word edges (63, 64, 127, 128, 199).
        const int pieces = 200;
        var picker = Create(pieces);
        picker.AddAvailability(All(pieces));
        picker.AddAvailability(All(pieces));
        picker.AddAvailability(Only(pieces, [.. Enumerable.Range(0, pieces).Except([63, 64, 127, 128, 199])]));
        picker.MarkHave(64);

        var order = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            var blocks = Pick(picker, 1, All(pieces), 4);
            Assert.Equal(4, blocks.Length);
            Assert.Single(blocks.Select(b => b.Piece).Distinct());
            order.Add(blocks[0].Piece);
        }

        // Each whole piece is taken once: started pieces are not picked again, the had one never.
        Assert.Equal([63, 127, 128, 199], order.Order());
        var next = Pick(picker, 1, All(pieces), 4);
        Assert.DoesNotContain(next, b => b.Piece is 63 or 64 or 127 or 128 or 199);
    }

    [Fact]
    public void Pick_PeerWithOnlyHadOrStartedPieces_GetsNothing_AndIsNotInteresting()
    {
        const int pieces = 130;
        var picker = Create(pieces);
        var peer = Only(pieces, 5, 70, 129);
        picker.AddAvailability(peer);
        picker.MarkHave(5);
        picker.MarkHave(129);
        Assert.True(picker.IsInteresting(peer));
        Assert.Equal(4, Pick(picker, 1, peer, 4).Length); // piece 70, now started and fully asked
        Assert.Empty(Pick(picker, 2, Only(pieces, 5, 129), 4));
        Assert.False(picker.IsInteresting(Only(pieces, 5, 129)));
    }

    [Fact]
    public void Pick_StartedPieceWithOpenBlocks_FinishedBeforeNewOnes()
    {
        var picker = Create(8);
        picker.AddAvailability(All(8));
        var partial = Pick(picker, 1, All(8), 2); // peer 1 takes half a piece
        var next = Pick(picker, 2, All(8), 2);

        Assert.Equal(partial[0].Piece, next[0].Piece);
        Assert.Equal([2 * Block, 3 * Block], next.Select(b => b.Offset));
    }

    [Fact]
    public void Pick_PriorityWindow_ComesFirstInOrder()
    {
        var picker = Create(10);
        picker.AddAvailability(All(10));
        picker.AddAvailability(Only(10, 0, 1, 2, 3, 4, 5, 6, 7, 8)); // 9 is rarest
        picker.Prioritize(6, 2);
        var blocks = Pick(picker, 1, All(10), 12);

        Assert.Equal([6, 6, 6, 6, 7, 7, 7, 7, 9, 9, 9, 9], blocks.Select(b => b.Piece));
    }

    [Fact]
    public void Pick_PriorityWindow_CountsMissingPieces_SkippingThoseAlreadyHere()
    {
        var picker = Create(12);
        picker.AddAvailability(All(12));
        picker.MarkHave(6);
        picker.MarkHave(7);
        picker.MarkHave(9);
        picker.Prioritize(5, 3); // the reader is at 5: its next three missing pieces are 5, 8 and 10
        var blocks = Pick(picker, 1, All(12), 12);

        Assert.Equal([5, 5, 5, 5, 8, 8, 8, 8, 10, 10, 10, 10], blocks.Select(b => b.Piece));
    }

    [Fact]
    public void Pick_LastPiece_ShortBlocks()
    {
        var length = (2L * PieceLength) + Block + 100;
        var picker = Create(3, length: length);
        var blocks = Pick(picker, 1, Only(3, 2), 10);
        Assert.Equal([Block, 100], blocks.Select(b => b.Length));
        Assert.Equal(BlockReceipt.Accepted, picker.OnBlockReceived(1, 2, 0, Block));
        Assert.Equal(BlockReceipt.PieceComplete, picker.OnBlockReceived(1, 2, Block, 100));
    }

    [Fact]
    public void OnBlockReceived_NotRequestedOrWrongLength_Unexpected()
    {
        var picker = Create(2);
        Pick(picker, 1, Only(2, 0), 1);
        Assert.Equal(BlockReceipt.Unexpected, picker.OnBlockReceived(2, 0, 0, Block)); // asked of peer 1
        Assert.Equal(BlockReceipt.Unexpected, picker.OnBlockReceived(1, 0, 0, 100));
        Assert.Equal(BlockReceipt.Unexpected, picker.OnBlockReceived(1, 0, 5, Block));
        Assert.Equal(BlockReceipt.Unexpected, picker.OnBlockReceived(1, 7, 0, Block));
        Assert.Equal(BlockReceipt.Unexpected, picker.OnBlockReceived(1, 1, 0, Block));
    }

    [Fact]
    public void Endgame_DuplicateRequests_CancelledOnArrival()
    {
        var picker = Create(1);
        var first = Pick(picker, 1, All(1), 10);
        Assert.Equal(4, first.Length);
        Assert.True(picker.IsEndgame);

        var duplicates = Pick(picker, 2, All(1), 10);
        Assert.Equal(first, duplicates);
        Assert.Empty(Pick(picker, 2, All(1), 10)); // never the same block twice to one peer

        var cancel = new List<int>();
        Assert.Equal(BlockReceipt.Accepted, picker.OnBlockReceived(2, 0, 0, Block, cancel));
        Assert.Equal([1], cancel);
        Assert.Equal(BlockReceipt.Unexpected, picker.OnBlockReceived(1, 0, 0, Block)); // the late copy
    }

    [Fact]
    public void Endgame_FromOrigin_NoDuplicates()
    {
        var picker = Create(1);
        Pick(picker, 1, All(1), 10);
        var buffer = new BlockRequest[10];
        Assert.Equal(0, picker.Pick(2, All(1), buffer, origin: true));
        Assert.Equal(4, picker.Pick(2, All(1), buffer));
    }

    [Fact]
    public void Endgame_AtMostThreeRequestersPerBlock()
    {
        var picker = Create(1);
        for (var peer = 1; peer <= PiecePicker.MaxRequestersPerBlock; peer++)
        {
            Assert.Equal(4, Pick(picker, peer, All(1), 10).Length);
        }

        Assert.Empty(Pick(picker, 9, All(1), 10));
    }

    [Fact]
    public void Release_PeerGone_ItsBlocksGoToOthers()
    {
        var picker = Create(1);
        Pick(picker, 1, All(1), 10);
        Assert.Equal(BlockReceipt.Accepted, picker.OnBlockReceived(1, 0, 0, Block));
        picker.Release(1);
        Assert.False(picker.IsEndgame);

        var reissued = Pick(picker, 2, All(1), 10);
        Assert.Equal([Block, 2 * Block, 3 * Block], reissued.Select(b => b.Offset));
    }

    [Fact]
    public void Release_EndgameDuplicateHolder_PromotedInsteadOfReopened()
    {
        var picker = Create(1);
        Pick(picker, 1, All(1), 10);
        Pick(picker, 2, All(1), 10);
        picker.Release(1);
        Assert.True(picker.IsEndgame); // peer 2 still has every block asked
        Assert.Equal(BlockReceipt.Accepted, picker.OnBlockReceived(2, 0, 0, Block));
    }

    [Fact]
    public void Release_SingleBlock_Reopened()
    {
        var picker = Create(1);
        var blocks = Pick(picker, 1, All(1), 10);
        picker.Release(1, blocks[2]);
        Assert.Equal([blocks[2]], Pick(picker, 2, All(1), 10));
    }

    [Fact]
    public void OnPieceFailed_OneContributor_Blamed()
    {
        var picker = Create(1);
        Pick(picker, 4, All(1), 10);
        for (var b = 0; b < 4; b++)
        {
            picker.OnBlockReceived(4, 0, b * Block, Block);
        }

        Assert.Equal(4, picker.OnPieceFailed(0));
        Assert.Equal(4, Pick(picker, 5, All(1), 10).Length); // the piece is open again
    }

    [Fact]
    public void OnPieceFailed_SeveralContributors_NoBlameAndRetriedFromOnePeer()
    {
        var picker = Create(1);
        Pick(picker, 1, All(1), 2);
        Pick(picker, 2, All(1), 2);
        picker.OnBlockReceived(1, 0, 0, Block);
        picker.OnBlockReceived(1, 0, Block, Block);
        picker.OnBlockReceived(2, 0, 2 * Block, Block);
        Assert.Equal(BlockReceipt.PieceComplete, picker.OnBlockReceived(2, 0, 3 * Block, Block));

        Assert.Equal(-1, picker.OnPieceFailed(0));
        Assert.Equal(2, Pick(picker, 3, All(1), 2).Length);
        Assert.Empty(Pick(picker, 1, All(1), 10)); // exclusive to peer 3
        Assert.Equal(2, Pick(picker, 3, All(1), 10).Length);
    }

    [Fact]
    public void OnPieceVerified_NotPickedAgainAndNotInteresting()
    {
        var picker = Create(2);
        Pick(picker, 1, Only(2, 0), 10);
        for (var b = 0; b < 4; b++)
        {
            picker.OnBlockReceived(1, 0, b * Block, Block);
        }

        picker.OnPieceVerified(0);
        Assert.True(picker.Has(0));
        Assert.False(picker.IsInteresting(Only(2, 0)));
        Assert.True(picker.IsInteresting(Only(2, 1)));
        Assert.Empty(Pick(picker, 2, Only(2, 0), 10));
    }

    [Fact]
    public void MarkHave_AllPieces_Complete()
    {
        var picker = Create(3);
        for (var i = 0; i < 3; i++)
        {
            picker.MarkHave(i);
        }

        Assert.True(picker.IsComplete);
        Assert.False(picker.IsEndgame);
        Assert.Empty(Pick(picker, 1, All(3), 10));
    }

    [Fact]
    public void Availability_BitfieldAndHave_CountedAndRemoved()
    {
        var picker = Create(4);
        var peer = Only(4, 1, 2);
        picker.AddAvailability(peer);
        picker.AddAvailability(2);
        Assert.Equal(2, picker.GetAvailability(2));
        picker.RemoveAvailability(peer);
        Assert.Equal(0, picker.GetAvailability(1));
        Assert.Equal(1, picker.GetAvailability(2));
    }

    [Fact]
    public void PickAndReceive_PerBlock_AllocatesNothing()
    {
        // One 16 MiB piece: 1024 blocks picked and received one at a time.
        var picker = new PiecePicker(2, 16 * 1024 * 1024, 32L * 1024 * 1024, new Random(1));
        var peer = All(2);
        Span<BlockRequest> one = stackalloc BlockRequest[1];
        picker.Pick(1, peer, one);
        picker.OnBlockReceived(1, one[0].Piece, one[0].Offset, one[0].Length);

        var picked = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1; i < 1024; i++)
        {
            picked += picker.Pick(1, peer, one);
            picker.OnBlockReceived(1, one[0].Piece, one[0].Offset, one[0].Length);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1023, picked);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Pick_FromOrigin_OnlyPiecesNoServingPeerHolds()
    {
        var picker = Create(4);
        picker.AddAvailability(All(4), unserved: true); // the origin
        var peer = Only(4, 0, 1);
        picker.AddAvailability(peer); // a peer that unchoked us
        var buffer = new BlockRequest[16];
        var count = picker.Pick(1, All(4), buffer, origin: true);

        Assert.Equal(8, count); // pieces 2 and 3, four blocks each
        Assert.All(buffer[..count], b => Assert.Contains(b.Piece, new[] { 2, 3 }));
        Assert.Equal(4, Pick(picker, 2, peer, 4).Length); // the peer gets what only it has beside the origin
    }

    [Fact]
    public void Pick_FromOrigin_StartedPieceHeldByPeer_LeftToThePeer()
    {
        var picker = Create(2);
        picker.AddAvailability(All(2), unserved: true); // the origin
        var buffer = new BlockRequest[16];
        Assert.Equal(2, picker.Pick(1, All(2), buffer.AsSpan(0, 2), origin: true)); // half a piece asked of the origin
        picker.AddAvailability(All(2)); // now a serving peer holds both pieces

        Assert.Equal(0, picker.Pick(1, All(2), buffer, origin: true));
        Assert.Equal(6, picker.Pick(2, All(2), buffer)); // the started piece's other 2 blocks, then the other piece's 4
    }

    [Fact]
    public void Pick_FromOrigin_PeerChokingUs_DoesNotHoldOriginBack()
    {
        var picker = Create(1);
        picker.AddAvailability(All(1), unserved: true); // the origin
        var peer = All(1);
        picker.AddAvailability(peer, unserved: true); // a peer still choking us
        var buffer = new BlockRequest[4];
        Assert.False(picker.IsHeldByPeer(0));

        picker.SetServing(peer, serving: true); // it unchoked us
        Assert.True(picker.IsHeldByPeer(0));
        Assert.Equal(0, picker.Pick(1, All(1), buffer, origin: true));

        picker.SetServing(peer, serving: false); // and choked us again
        Assert.Equal(4, picker.Pick(1, All(1), buffer, origin: true));
    }

    [Fact]
    public void RemoveAvailability_Origin_NoLongerUnserved()
    {
        var picker = Create(1);
        picker.AddAvailability(All(1), unserved: true);
        picker.AddAvailability(All(1));
        picker.RemoveAvailability(All(1), unserved: true); // the origin left

        Assert.Equal(1, picker.GetAvailability(0));
        Assert.True(picker.IsHeldByPeer(0));
    }
}

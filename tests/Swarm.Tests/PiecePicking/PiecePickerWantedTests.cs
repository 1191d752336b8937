using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

/// <summary>A download of byte ranges: only the pieces asked for are picked, until the whole blob is wanted.</summary>
public sealed class PiecePickerWantedTests
{
    private const int Block = PiecePicker.DefaultBlockSize;
    private const int PieceLength = 4 * Block;

    private static PiecePicker CreateRangeOnly(int pieces)
    {
        var picker = new PiecePicker(pieces, PieceLength, (long)pieces * PieceLength, new Random(7));
        picker.WantOnly();
        return picker;
    }

    private static Bitfield All(int pieces)
    {
        var bits = new Bitfield(pieces);
        bits.SetAll();
        return bits;
    }

    private static BlockRequest[] Pick(PiecePicker picker, int peer, Bitfield pieces, int max, bool origin = false)
    {
        var buffer = new BlockRequest[max];
        return buffer.AsSpan(0, picker.Pick(peer, pieces, buffer, origin)).ToArray();
    }

    [Fact]
    public void Pick_RangeOnlyWithNothingWanted_PicksNothing_AndNoPeerIsInteresting()
    {
        var picker = CreateRangeOnly(8);
        picker.AddAvailability(All(8));

        Assert.Empty(Pick(picker, 1, All(8), 64));
        Assert.False(picker.IsInteresting(All(8)));
        Assert.False(picker.IsEndgame);
        Assert.False(picker.WantsAll);
    }

    [Fact]
    public void Pick_RangeOnly_PicksOnlyTheWantedPieces_EvenWithThePriorityWindowElsewhere()
    {
        var picker = CreateRangeOnly(16);
        picker.AddAvailability(All(16));
        Assert.True(picker.Want(14, 2));
        picker.Prioritize(0, 32);

        var blocks = Pick(picker, 1, All(16), 64);

        Assert.Equal(8, blocks.Length);
        Assert.Equal([14, 15], blocks.Select(b => b.Piece).Distinct().Order());
        Assert.True(picker.IsInteresting(All(16)));
    }

    [Fact]
    public void Pick_RangeOnlyWithACrossingShare_TheWantedPiecesCrossAtOnce_TheWholeDownloadLeavesThemToTheirOwners()
    {
        var time = new FakeTimeProvider();
        var picker = new PiecePicker(8, PieceLength, 8L * PieceLength, new Random(7), time: time);
        picker.WantOnly();
        picker.AddAvailability(All(8));
        picker.SetCrossingShare(CrossingShare.Of([0, 1, 1, 1, 1, 1, 1, 1], 2, new Dictionary<int, int> { [10] = 1 }));
        Assert.True(picker.Want(5, 2));

        // Pieces 5 and 6 are another node's share, but that node may never want them: no crossing wait.
        var buffer = new BlockRequest[64];
        var count = picker.Pick(1, All(8), buffer, remote: true);
        Assert.Equal([5, 6], buffer[..count].Select(b => b.Piece).Distinct().Order().ToArray());
        picker.Release(1);

        // Whole, the download leaves the rest of another's share to its owner for the wait.
        Assert.True(picker.WantAll());
        count = picker.Pick(2, All(8), buffer, remote: true);
        Assert.Equal([0], buffer[..count].Select(b => b.Piece).Distinct().ToArray());
    }

    [Fact]
    public void Want_ClampedToTheBlob_AndFalseForPiecesAlreadyHere()
    {
        var picker = CreateRangeOnly(4);
        picker.MarkHave(3);

        Assert.False(picker.Want(3, 100));
        Assert.True(picker.Want(-5, 7));
        Assert.True(picker.IsWanted(0) && picker.IsWanted(1) && !picker.IsWanted(2) && picker.IsWanted(3));
        Assert.False(picker.Want(0, 0));
    }

    [Fact]
    public void IsEndgame_RangeOnly_OnceEveryWantedBlockIsAsked_DuplicatesOnlyOfWantedPieces()
    {
        var picker = CreateRangeOnly(8);
        picker.AddAvailability(All(8));
        picker.AddAvailability(All(8));
        picker.Want(2, 1);

        Assert.Equal(4, Pick(picker, 1, All(8), 64).Length);
        Assert.True(picker.IsEndgame);

        var duplicates = Pick(picker, 2, All(8), 64);
        Assert.Equal(4, duplicates.Length);
        Assert.All(duplicates, b => Assert.Equal(2, b.Piece));
    }

    [Fact]
    public void IsEndgame_RangeOnly_FalseOnceTheWantedPiecesAreHere()
    {
        var picker = CreateRangeOnly(8);
        picker.Want(2, 1);
        picker.MarkHave(2);

        Assert.False(picker.IsEndgame);
        Assert.False(picker.IsComplete);
    }

    [Fact]
    public void WantAll_MakesEveryPieceWanted_TheDownloadGoesOnToTheEnd()
    {
        var picker = CreateRangeOnly(4);
        picker.AddAvailability(All(4));
        picker.Want(0, 1);
        Assert.Equal(4, Pick(picker, 1, All(4), 64).Length);

        Assert.True(picker.WantAll());
        Assert.False(picker.WantAll());
        Assert.True(picker.WantsAll);
        Assert.Equal([1, 2, 3], Pick(picker, 1, All(4), 64).Select(b => b.Piece).Distinct().Order());
    }

    [Fact]
    public void Want_OnAWholeDownload_ChangesNothing()
    {
        var picker = new PiecePicker(4, PieceLength, 4L * PieceLength, new Random(7));

        Assert.False(picker.Want(0, 1));
        Assert.True(picker.IsWanted(3));
        Assert.True(picker.WantsAll);
    }

    [Fact]
    public void Pick_RangeOnlyFromAnOrigin_StillOnlyWantedPieces()
    {
        var picker = CreateRangeOnly(8);
        picker.AddAvailability(All(8), unserved: true);
        picker.Want(7, 1);

        var blocks = Pick(picker, 1, All(8), 64, origin: true);

        Assert.Equal(4, blocks.Length);
        Assert.All(blocks, b => Assert.Equal(7, b.Piece));
    }
}

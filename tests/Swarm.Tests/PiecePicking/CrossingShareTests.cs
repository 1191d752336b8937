using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

/// <summary><see cref="CrossingShare"/>: which agent of a zone fetches which piece across.</summary>
public sealed class CrossingShareTests
{
    private static readonly string[] Zone = ["2d5052303030312d0000000000000000000000a1", "2d5052303030312d0000000000000000000000b2", "2d5052303030312d0000000000000000000000c3", "2d5052303030312d0000000000000000000000d4"];

    [Fact]
    public void Compute_EveryAgentOfTheZone_EachPieceExactlyOnce()
    {
        const int pieces = 256;
        var owners = new int[pieces];
        foreach (var self in Zone)
        {
            var share = CrossingShare.Compute(self, Locals(Zone.Where(id => id != self)), pieces);
            Assert.NotNull(share);
            Assert.Equal(Zone.Length, share.OwnerCount);
            Assert.InRange(share.Own.SetCount, pieces / 8, pieces / 2); // about a quarter each
            for (var piece = 0; piece < pieces; piece++)
            {
                owners[piece] += share.Own[piece] ? 1 : 0;
            }
        }

        Assert.All(owners, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Compute_SameAnswerWhateverTheOrderOrDuplicates()
    {
        var first = CrossingShare.Compute(Zone[0], Locals([Zone[1], Zone[2], Zone[3]]), 64)!;
        var second = CrossingShare.Compute(Zone[0], Locals([Zone[3], Zone[1], Zone[2], Zone[1], Zone[0]]), 64)!;
        Assert.Equal(first.Own.Words.ToArray(), second.Own.Words.ToArray());
    }

    [Fact]
    public void Compute_NoLocalPeer_NoShare() => Assert.Null(CrossingShare.Compute(Zone[0], [], 64));

    [Fact]
    public void Compute_AnAgentLeaves_OnlyItsPiecesMove()
    {
        const int pieces = 256;
        var before = CrossingShare.Compute(Zone[0], Locals([Zone[1], Zone[2], Zone[3]]), pieces)!.Own;
        var after = CrossingShare.Compute(Zone[0], Locals([Zone[1], Zone[2]]), pieces)!.Own;
        var leaving = CrossingShare.Compute(Zone[3], Locals([Zone[0], Zone[1], Zone[2]]), pieces)!.Own;
        for (var piece = 0; piece < pieces; piece++)
        {
            if (before[piece])
            {
                Assert.True(after[piece]); // kept
            }
            else if (after[piece])
            {
                Assert.True(leaving[piece]); // gained only from the one that left
            }
        }

        Assert.True(after.SetCount > before.SetCount);
    }

    [Fact]
    public void Compute_EachPiecesOwner_IsTheAgentWhoseShareItIs_AndAPeerConnectedTwiceIsOneOwner()
    {
        const int pieces = 128;
        var share = CrossingShare.Compute(Zone[0], [(Zone[1], 5), (Zone[2], 6), (Zone[1], 7)], pieces)!;
        Assert.Equal(3, share.OwnerCount);
        Assert.True(share.TryGetOwner(5, out var first) && share.TryGetOwner(7, out var again) && first == again);
        Assert.True(share.TryGetOwner(6, out var second) && second != first && second != CrossingShare.Self);
        Assert.False(share.TryGetOwner(8, out _));

        var theirs = CrossingShare.Compute(Zone[1], Locals([Zone[0], Zone[2]]), pieces)!.Own;
        for (var piece = 0; piece < pieces; piece++)
        {
            Assert.Equal(share.Own[piece], share.OwnerOf(piece) == CrossingShare.Self);
            Assert.Equal(theirs[piece], share.OwnerOf(piece) == first);
        }
    }

    [Fact]
    public void Of_RefusesAnOwnerOutsideTheSplit() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CrossingShare.Of([0, 2], 2, new Dictionary<int, int>()));

    private static (string, int)[] Locals(IEnumerable<string> ids) => ids.Select((id, i) => (id, i + 1)).ToArray();
}

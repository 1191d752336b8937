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
            var share = CrossingShare.Compute(self, Zone.Where(id => id != self), pieces);
            Assert.NotNull(share);
            Assert.InRange(share.SetCount, pieces / 8, pieces / 2); // about a quarter each
            for (var piece = 0; piece < pieces; piece++)
            {
                owners[piece] += share[piece] ? 1 : 0;
            }
        }

        Assert.All(owners, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Compute_SameAnswerWhateverTheOrderOrDuplicates()
    {
        var first = CrossingShare.Compute(Zone[0], [Zone[1], Zone[2], Zone[3]], 64)!;
        var second = CrossingShare.Compute(Zone[0], [Zone[3], Zone[1], Zone[2], Zone[1], Zone[0]], 64)!;
        Assert.Equal(first.Words.ToArray(), second.Words.ToArray());
    }

    [Fact]
    public void Compute_NoLocalPeer_NoShare() => Assert.Null(CrossingShare.Compute(Zone[0], [], 64));

    [Fact]
    public void Compute_AnAgentLeaves_OnlyItsPiecesMove()
    {
        const int pieces = 256;
        var before = CrossingShare.Compute(Zone[0], [Zone[1], Zone[2], Zone[3]], pieces)!;
        var after = CrossingShare.Compute(Zone[0], [Zone[1], Zone[2]], pieces)!;
        var leaving = CrossingShare.Compute(Zone[3], [Zone[0], Zone[1], Zone[2]], pieces)!;
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
}

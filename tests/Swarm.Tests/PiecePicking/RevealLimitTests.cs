using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

public sealed class RevealLimitTests
{
    [Fact]
    public void Of_NoBudget_AtOnceWhateverSettledOrPeers()
    {
        var limit = new RevealLimit(atOnce: 3, budget: 0);

        Assert.Equal(3, limit.Of(settled: 0, peerCount: 1));
        Assert.Equal(3, limit.Of(settled: 100, peerCount: 1));
        Assert.Equal(3, limit.Of(settled: 100, peerCount: 50));
    }

    [Fact]
    public void Of_Budget_RampsUpOnePerSettledPiece_ToTheShare()
    {
        var limit = new RevealLimit(atOnce: 2, budget: 8);

        Assert.Equal([2, 3, 4, 5, 6, 7, 8, 8, 8], Enumerable.Range(0, 9).Select(settled => limit.Of(settled, peerCount: 1)));
        Assert.Equal(4, limit.Of(settled: 100, peerCount: 2));
        Assert.Equal(2, limit.Of(settled: 100, peerCount: 4));
    }

    [Fact]
    public void Of_ManyPeers_NeverBelowAtOnce()
    {
        var limit = new RevealLimit(atOnce: 2, budget: 8);

        Assert.Equal(2, limit.Of(settled: 100, peerCount: 12));
        Assert.Equal(2, limit.Of(settled: 0, peerCount: 0));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, -1)]
    public void Constructor_OutOfRange_Throws(int atOnce, int budget) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new RevealLimit(atOnce, budget));
}

using P2PRegistry.Harness.Images;
using P2PRegistry.Harness.Measuring;

namespace P2PRegistry.Harness.Tests.Images;

public sealed class WavePlanTests
{
    [Theory]
    [InlineData(10, 4, new[] { 3, 3, 2, 2 })]
    [InlineData(8, 1, new[] { 8 })]
    [InlineData(8, 8, new[] { 1, 1, 1, 1, 1, 1, 1, 1 })]
    [InlineData(5, 2, new[] { 3, 2 })]
    public void ByCount_EvenWaves_LargerFirst(int clients, int waves, int[] expected) =>
        Assert.Equal(expected, WavePlan.ByCount(clients, waves));

    [Theory]
    [InlineData(8, 20, new[] { 2, 2, 2, 2 })]
    [InlineData(10, 20, new[] { 2, 2, 2, 2, 2 })]
    [InlineData(7, 20, new[] { 2, 2, 2, 1 })]
    [InlineData(24, 20, new[] { 5, 5, 5, 5, 4 })]
    [InlineData(5, 100, new[] { 5 })]
    [InlineData(3, 1, new[] { 1, 1, 1 })]
    public void ByPercent_WavesOfThePercentRoundedUp_LastTakesTheRest(int clients, int percent, int[] expected) =>
        Assert.Equal(expected, WavePlan.ByPercent(clients, percent));

    [Fact]
    public void ByCount_MoreWavesThanClients_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => WavePlan.ByCount(2, 3));

    [Fact]
    public void Split_KeepsOrder_AndRefusesSizesThatDoNotCover()
    {
        var waves = WavePlan.Split(["c1", "c2", "c3", "c4", "c5"], [2, 2, 1]);
        Assert.Equal([["c1", "c2"], ["c3", "c4"], ["c5"]], waves);
        Assert.Throws<ArgumentException>(() => WavePlan.Split(["c1", "c2"], [1]));
        Assert.Throws<ArgumentException>(() => WavePlan.Split(["c1", "c2"], [2, 0]));
    }

    [Fact]
    public void Percentile_NearestRank_IsAlwaysAMeasuredValue()
    {
        double[] eight = [8, 1, 7, 2, 6, 3, 5, 4];
        Assert.Equal(4, Percentile.NearestRank(eight, 50));
        Assert.Equal(8, Percentile.NearestRank(eight, 99));
        Assert.Equal(1, Percentile.NearestRank(eight, 1));
        Assert.Equal(99, Percentile.NearestRank([.. Enumerable.Range(1, 100).Select(i => (double)i)], 99));
        Assert.Equal(3, Percentile.NearestRank([3], 50));
        Assert.Throws<ArgumentException>(() => Percentile.NearestRank([], 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentile.NearestRank([1], 0));
    }
}

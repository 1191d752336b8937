using P2PRegistry.Harness.Measuring;

namespace P2PRegistry.Harness.Tests;

public sealed class CdfTests
{
    [Fact]
    public void Steps_SortsAndRisesByOneOverN()
    {
        var steps = Cdf.Steps([3.0, 1.0, 2.0, 4.0], 4);
        Assert.Equal(
            [(0, 0), (1, 0), (1, 0.25), (2, 0.25), (2, 0.5), (3, 0.5), (3, 0.75), (4, 0.75), (4, 1)],
            steps);
    }

    [Fact]
    public void Steps_EqualTimes_RiseTogether()
    {
        Assert.Equal([(0, 0), (5, 0), (5, 1)], Cdf.Steps([5.0, 5.0], 2));
    }

    [Fact]
    public void Steps_FailedClients_CurveStopsBelowOne()
    {
        var steps = Cdf.Steps([2.0], 4);
        Assert.Equal(0.25, steps[^1].Fraction);
    }

    [Fact]
    public void Median_OddAndEvenCounts()
    {
        Assert.Equal(2, Cdf.Median([3.0, 1.0, 2.0]));
        Assert.Equal(2.5, Cdf.Median([4.0, 1.0, 3.0, 2.0]));
        Assert.Throws<ArgumentException>(() => Cdf.Median([]));
    }
}

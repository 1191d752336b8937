using P2PRegistry.TrackerLoad.Measuring;

namespace P2PRegistry.Harness.Tests.TrackerLoad;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentile_SmallValues_AreExact()
    {
        var histogram = new LatencyHistogram();
        for (var v = 1; v <= 100; v++)
        {
            histogram.Record(v);
        }

        Assert.Equal(50, histogram.Percentile(50));
        Assert.Equal(99, histogram.Percentile(99));
        Assert.Equal(100, histogram.Percentile(99.9));
        Assert.Equal(1, histogram.Percentile(0));
        Assert.Equal(100, histogram.Percentile(100));
        Assert.Equal(50.5, histogram.Mean);
    }

    [Fact]
    public void Percentile_MatchesNearestRankOfSortedValues_WithinOneBucket()
    {
        var random = new Random(42);
        var values = new long[100_000];
        var histogram = new LatencyHistogram();
        for (var i = 0; i < values.Length; i++)
        {
            // Log-uniform from 1 µs to about 16 s, as latencies spread.
            values[i] = (long)Math.Pow(2, random.NextDouble() * 24);
            histogram.Record(values[i]);
        }

        Array.Sort(values);
        foreach (var percent in new[] { 1.0, 25, 50, 90, 99, 99.9, 99.99 })
        {
            var exact = values[(int)Math.Ceiling(percent / 100 * values.Length) - 1];
            var reported = histogram.Percentile(percent);
            Assert.InRange(reported, exact, exact + (exact / 64) + 1);
        }

        Assert.Equal(values[^1], histogram.Max);
        Assert.Equal(values[^1], histogram.Percentile(100));
    }

    [Fact]
    public void Add_MergesCountsAsIfRecordedInOne()
    {
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        var both = new LatencyHistogram();
        for (var v = 0; v < 5000; v += 7)
        {
            (v % 2 == 0 ? a : b).Record(v * 13L);
            both.Record(v * 13L);
        }

        a.Add(b);
        Assert.Equal(both.Count, a.Count);
        Assert.Equal(both.Max, a.Max);
        Assert.Equal(both.Min, a.Min);
        foreach (var percent in new[] { 10.0, 50, 99, 99.9 })
        {
            Assert.Equal(both.Percentile(percent), a.Percentile(percent));
        }
    }

    [Fact]
    public void Percentile_Empty_IsZero()
    {
        Assert.Equal(0, new LatencyHistogram().Percentile(99));
    }

    [Fact]
    public void Buckets_CoverEveryValueOnce_AndUpperBoundsRise()
    {
        // Every value maps to the bucket whose range holds it; bounds rise strictly, so percentiles are monotone.
        long previousUpper = -1;
        for (var index = 0; index < 128 + (20 * 64); index++)
        {
            var upper = LatencyHistogram.UpperBoundOf(index);
            Assert.True(upper > previousUpper);
            Assert.Equal(index, LatencyHistogram.IndexOf(previousUpper + 1));
            Assert.Equal(index, LatencyHistogram.IndexOf(upper));
            previousUpper = upper;
        }

        Assert.Equal(LatencyHistogram.IndexOf(long.MaxValue), LatencyHistogram.IndexOf(long.MaxValue - 1));
    }

    [Fact]
    public void Record_Negative_CountsAsZero()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);
        Assert.Equal(0, histogram.Max);
        Assert.Equal(1, histogram.Count);
    }
}

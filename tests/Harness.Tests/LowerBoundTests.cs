using P2PRegistry.Harness.Measuring;

namespace P2PRegistry.Harness.Tests;

public sealed class LowerBoundTests
{
    [Fact]
    public void Seconds_EqualLinks_IsFileOverRate()
    {
        // 256 MiB at 11.97 MB/s: every term is F/rate or less (N/(N+1) < 1): 268435456 / 11.97e6 = 22.426 s.
        Assert.Equal(22.426, LowerBound.Seconds(256L << 20, 11.97e6, 4), 3);
    }

    [Fact]
    public void Seconds_SlowOrigin_OriginUploadBounds()
    {
        // F = 100, origin 1/s, clients upload and download 100/s: F/u_origin = 100 dominates.
        Assert.Equal(100, LowerBound.Seconds(100, 1, [100, 100], [100, 100]), 9);
    }

    [Fact]
    public void Seconds_SlowClientDownload_SlowestDownloadBounds()
    {
        // F = 1000, origin 1000/s, downloads 500/s and 2/s: F/d_min = 500.
        Assert.Equal(500, LowerBound.Seconds(1000, 1000, [1000, 1000], [500, 2]), 9);
    }

    [Fact]
    public void Seconds_ClientsCannotUpload_AggregateUploadBounds()
    {
        // F = 10, N = 4, origin 10/s, clients upload 0 and download 100/s: N·F/(u_o + Σu) = 40/10 = 4 > F/u_o = 1.
        Assert.Equal(4, LowerBound.Seconds(10, 10, [0, 0, 0, 0], [100, 100, 100, 100]), 9);
    }

    [Fact]
    public void Seconds_MixedRates_TakesTheLargestTerm()
    {
        // F = 600, origin 6, uploads 1+2+3 = 6, downloads ≥ 60: terms 100, 10, 3·600/12 = 150.
        Assert.Equal(150, LowerBound.Seconds(600, 6, [1, 2, 3], [60, 70, 80]), 9);
    }

    [Fact]
    public void Seconds_InvalidInput_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LowerBound.Seconds(0, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LowerBound.Seconds(1, 0, 1));
        Assert.Throws<ArgumentException>(() => LowerBound.Seconds(1, 1, [1], []));
        Assert.Throws<ArgumentException>(() => LowerBound.Seconds(1, 1, [1], [0]));
    }
}

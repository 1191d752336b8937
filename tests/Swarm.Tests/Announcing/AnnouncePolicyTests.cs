using P2PRegistry.Swarm.Announcing;

namespace P2PRegistry.Swarm.Tests.Announcing;

public sealed class AnnouncePolicyTests
{
    private static readonly TimeSpan DownloadInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SeedInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan DownloadCap = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SeedCap = TimeSpan.FromMinutes(5);

    private static AnnouncePolicy Policy() => new(DownloadInterval, SeedInterval, DownloadCap, SeedCap, TimeSpan.FromSeconds(30));

    [Fact]
    public void Ceiling_ConsecutiveFailures_DoublesFromTheIntervalUpToTheCap()
    {
        var policy = Policy();

        Assert.Equal(TimeSpan.FromMinutes(2), policy.Ceiling(downloading: false, 1));
        Assert.Equal(TimeSpan.FromMinutes(4), policy.Ceiling(downloading: false, 2));
        Assert.Equal(SeedCap, policy.Ceiling(downloading: false, 3));
        Assert.Equal(SeedCap, policy.Ceiling(downloading: false, 1000));
        Assert.Equal(TimeSpan.FromSeconds(10), policy.Ceiling(downloading: true, 1));
        Assert.Equal(TimeSpan.FromSeconds(20), policy.Ceiling(downloading: true, 2));
        Assert.Equal(DownloadCap, policy.Ceiling(downloading: true, 3));
        Assert.Equal(DownloadCap, policy.Ceiling(downloading: true, int.MaxValue));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NextDelay_AfterFailures_FullJitterBetweenTheFloorAndTheCeiling(bool downloading)
    {
        var policy = Policy();
        for (var failures = 1; failures <= 12; failures++)
        {
            var ceiling = policy.Ceiling(downloading, failures);
            Assert.Equal(AnnouncePolicy.MinimumRetryDelay, policy.NextDelay(downloading, failures, TimeSpan.Zero, 0));
            Assert.Equal(ceiling / 2, policy.NextDelay(downloading, failures, TimeSpan.Zero, 0.5));
            Assert.True(policy.NextDelay(downloading, failures, TimeSpan.Zero, 0.999_999) <= ceiling);

            // Uniform: a thousand draws cover the range and their mean is near half the ceiling.
            var random = new Random(failures);
            var delays = Enumerable.Range(0, 1000).Select(_ => policy.NextDelay(downloading, failures, TimeSpan.Zero, random.NextDouble())).ToList();
            Assert.All(delays, d => Assert.InRange(d, AnnouncePolicy.MinimumRetryDelay, ceiling));
            Assert.InRange(delays.Average(d => d.TotalSeconds), ceiling.TotalSeconds * 0.45, ceiling.TotalSeconds * 0.55);
            Assert.True(delays.Min() < ceiling * 0.1 + AnnouncePolicy.MinimumRetryDelay && delays.Max() > ceiling * 0.9, "full jitter spans the whole range");
        }
    }

    [Fact]
    public void NextDelay_AfterSuccess_TheRegularIntervalWhateverFailedBefore()
    {
        var policy = Policy();
        Assert.True(policy.NextDelay(downloading: false, 8, TimeSpan.Zero, 0.9) > TimeSpan.FromMinutes(4));

        // A success resets: failures = 0 is the regular interval, a seed's between 90 % and 100 % of it, never later.
        Assert.Equal(DownloadInterval, policy.NextDelay(downloading: true, 0, TimeSpan.FromMinutes(30), 0.7));
        Assert.Equal(SeedInterval, policy.NextDelay(downloading: false, 0, TimeSpan.Zero, 0));
        Assert.Equal(SeedInterval * 0.9, policy.NextDelay(downloading: false, 0, TimeSpan.Zero, 1));
        var random = new Random(7);
        Assert.All(Enumerable.Range(0, 500), _ => Assert.InRange(policy.NextDelay(false, 0, TimeSpan.FromSeconds(30), random.NextDouble()), SeedInterval * 0.9, SeedInterval));
    }

    [Fact]
    public void NextDelay_SeedAfterSuccess_HonoursALongerTrackerInterval()
    {
        var policy = Policy();
        Assert.Equal(TimeSpan.FromMinutes(10), policy.NextDelay(downloading: false, 0, TimeSpan.FromMinutes(10), 0));
        Assert.Equal(SeedInterval, policy.NextDelay(downloading: false, 0, TimeSpan.FromSeconds(30), 0));
    }

    [Fact]
    public void NextDelay_IntervalShorterThanTheFloor_TheFloorIsTheInterval()
    {
        var policy = new AnnouncePolicy(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(200), policy.NextDelay(downloading: true, 1, TimeSpan.Zero, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(500), policy.NextDelay(downloading: false, 1, TimeSpan.Zero, 0));
    }

    [Fact]
    public void NextDelay_ThreeHundredSeedsWithTheTrackerDownForTwoMinutes_FewAnnouncesPerSecond()
    {
        // The integration test's scenario as arithmetic: 300 seeds whose last good announce was spread over the interval,
        // the tracker down from t = 0 for 120 s. Each seed's first failing announce comes at its regular time, then backs off.
        var policy = Policy();
        var random = new Random(42);
        var attempts = 0;
        for (var seed = 0; seed < 300; seed++)
        {
            var at = SeedInterval * random.NextDouble();
            for (var failures = 1; at < TimeSpan.FromMinutes(2); failures++)
            {
                attempts++;
                at += policy.NextDelay(downloading: false, failures, TimeSpan.Zero, random.NextDouble());
            }
        }

        // Without back-off (a retry every 5 s, as before) that was ~21 per blob: 52 a second.
        var perSecond = attempts / 120.0;
        Assert.InRange(perSecond, 2.5, 5);
    }

    [Fact]
    public void SpreadWindow_TwentyMillisecondsAnAnnounce_AtMostTheSpread()
    {
        var policy = Policy();
        Assert.Equal(TimeSpan.Zero, policy.SpreadWindow(0, downloading: false));
        Assert.Equal(TimeSpan.FromMilliseconds(20), policy.SpreadWindow(1, downloading: false));
        Assert.Equal(TimeSpan.FromSeconds(6), policy.SpreadWindow(300, downloading: false));
        Assert.Equal(TimeSpan.FromSeconds(30), policy.SpreadWindow(100_000, downloading: false));
        Assert.Equal(DownloadInterval, policy.SpreadWindow(100_000, downloading: true));
    }

    [Fact]
    public void Constructor_CapBelowTheInterval_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AnnouncePolicy(DownloadInterval, SeedInterval, DownloadCap, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AnnouncePolicy(DownloadInterval, SeedInterval, TimeSpan.FromSeconds(1), SeedCap, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void SwarmOptions_CapBelowTheInterval_ValidationNamesIt()
    {
        var errors = new SwarmOptions { SeedAnnounceInterval = TimeSpan.FromMinutes(10) }.Validate().ToList();
        Assert.Contains(errors, e => e.Contains("AnnounceBackoffCap", StringComparison.Ordinal));
        errors = new SwarmOptions { DownloadAnnounceBackoffCap = TimeSpan.FromSeconds(1) }.Validate().ToList();
        Assert.Contains(errors, e => e.Contains("DownloadAnnounceBackoffCap", StringComparison.Ordinal));
        errors = new SwarmOptions { AnnounceSpread = TimeSpan.Zero }.Validate().ToList();
        Assert.Contains(errors, e => e.Contains("AnnounceSpread", StringComparison.Ordinal));
        Assert.Empty(new SwarmOptions().Validate());
    }
}

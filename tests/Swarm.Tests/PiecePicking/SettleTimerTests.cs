using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

public sealed class SettleTimerTests
{
    [Fact]
    public void Observe_WithoutAClock_CountsOnly()
    {
        var timer = new SettleTimer(null);
        timer.Observe(shownAt: 0);
        timer.Observe(shownAt: 0);

        Assert.Equal(2, timer.Settled);
        Assert.Equal(0, timer.Latency);
        Assert.Equal(0, timer.LatencyWith(oldestPendingShownAt: 0));
    }

    [Fact]
    public void Observe_FirstSetsTheTime_LaterOnesAreSmoothedIn()
    {
        var time = new FakeTimeProvider();
        var timer = new SettleTimer(time);
        var shown = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(1));
        timer.Observe(shown);
        Assert.Equal(1.0, timer.Latency, precision: 9);

        shown = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(2));
        timer.Observe(shown);
        Assert.Equal((0.7 * 1.0) + (0.3 * 2.0), timer.Latency, precision: 9);
        Assert.Equal(2, timer.Settled);
    }

    [Fact]
    public void Observe_SettledAtOnce_TimedAsAlmostZero_NotUntimed()
    {
        var time = new FakeTimeProvider();
        var timer = new SettleTimer(time);
        timer.Observe(time.GetTimestamp());

        Assert.True(timer.Latency > 0);
    }

    [Fact]
    public void LatencyWith_APiecePendingLongerThanTheTime_ThatLonger()
    {
        var time = new FakeTimeProvider();
        var timer = new SettleTimer(time);
        Assert.Equal(0, timer.LatencyWith(time.GetTimestamp())); // untimed: a pending piece does not time it

        var shown = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(1));
        timer.Observe(shown);
        var pending = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(1.0, timer.LatencyWith(pending), precision: 9);
        Assert.Equal(1.0, timer.LatencyWith(null), precision: 9);

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2.5, timer.LatencyWith(pending), precision: 9);
    }
}

using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.Health;

namespace P2PRegistry.Core.Tests.Health;

public sealed class PassiveHealthTests
{
    private readonly FakeTimeProvider _time = new();

    private PassiveHealth<string> Create() => new(_time, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), StringComparer.Ordinal);

    [Fact]
    public void Failed_SkipsTheServerForTheBaseDelay_ThenItIsTriedAgain()
    {
        var health = Create();

        Assert.Equal(TimeSpan.FromSeconds(10), health.Failed("a"));
        Assert.False(health.IsAvailable("a"));
        Assert.True(health.IsAvailable("b"));
        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(health.IsAvailable("a"));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(health.IsAvailable("a"));
        Assert.True(health.HasFailed("a"), "available again after the skip time, but no success seen yet");
    }

    [Fact]
    public void Failed_Repeatedly_BacksOffUpToTheCap()
    {
        var health = Create();

        var delays = Enumerable.Range(0, 5).Select(_ => health.Failed("a")).ToList();

        Assert.Equal([10, 20, 30, 30, 30], delays.Select(d => (int)d.TotalSeconds));
    }

    [Fact]
    public void Failed_ManyTimes_TheDelayStaysAtTheCapWithoutOverflow()
    {
        var health = new PassiveHealth<int>(_time, TimeSpan.FromDays(1), TimeSpan.FromDays(3));

        var last = TimeSpan.Zero;
        for (var i = 0; i < 200; i++)
        {
            last = health.Failed(7);
        }

        Assert.Equal(TimeSpan.FromDays(3), last);
        _time.Advance(TimeSpan.FromDays(3) - TimeSpan.FromSeconds(1));
        Assert.False(health.IsAvailable(7));
    }

    [Fact]
    public void Failed_ABaseDelayThatWouldOverflowWhenDoubled_StaysAtTheCap()
    {
        var health = new PassiveHealth<int>(_time, TimeSpan.FromDays(20), TimeSpan.FromDays(10_000));

        var delays = new List<TimeSpan>();
        for (var i = 0; i < 30; i++)
        {
            delays.Add(health.Failed(3));
        }

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromDays(20), TimeSpan.FromDays(10_000)));
        Assert.Equal(TimeSpan.FromDays(10_000), delays[^1]);
    }

    [Fact]
    public void EqualDelays_AFixedSkipTime()
    {
        var health = new PassiveHealth<int>(_time, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));

        Assert.Equal([30, 30, 30], Enumerable.Range(0, 3).Select(_ => (int)health.Failed(1).TotalSeconds));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(health.IsAvailable(1));
    }

    [Fact]
    public void ZeroDelay_NeverSkipped_ButTheFailureIsRecorded()
    {
        var health = new PassiveHealth<int>(_time, TimeSpan.Zero, TimeSpan.Zero);

        Assert.Equal(TimeSpan.Zero, health.Failed(1));
        Assert.True(health.IsAvailable(1));
        Assert.True(health.HasFailed(1));
    }

    [Fact]
    public void Succeeded_ResetsTheBackOff()
    {
        var health = Create();
        health.Failed("a");
        health.Failed("a");

        health.Succeeded("a");

        Assert.True(health.IsAvailable("a"));
        Assert.False(health.HasFailed("a"));
        Assert.Equal(TimeSpan.FromSeconds(10), health.Failed("a"));
    }

    [Fact]
    public void Retain_ForgetsServersNoLongerListed()
    {
        var health = Create();
        health.Failed("a");
        health.Failed("b");

        health.Retain(["b"]);

        Assert.True(health.IsAvailable("a"));
        Assert.False(health.HasFailed("a"));
        Assert.False(health.IsAvailable("b"));
    }

    [Fact]
    public void Constructor_RejectsDelaysThatCannotWork()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PassiveHealth<int>(_time, TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PassiveHealth<int>(_time, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
    }
}

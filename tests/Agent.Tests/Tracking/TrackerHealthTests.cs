using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Agent.Tracking;

namespace P2PRegistry.Agent.Tests.Tracking;

public sealed class TrackerHealthTests
{
    private readonly FakeTimeProvider _time = new();

    private TrackerHealth Create() => new(_time, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30));

    [Fact]
    public void Failed_SkipsTheTrackerForTheBaseDelayThenItIsTriedAgain()
    {
        var health = Create();

        Assert.Equal(TimeSpan.FromSeconds(10), health.Failed("a"));
        Assert.False(health.IsAvailable("a"));
        Assert.True(health.IsAvailable("b"));
        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(health.IsAvailable("a"));
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(health.IsAvailable("a"));
    }

    [Fact]
    public void Succeeded_ResetsTheBackOff()
    {
        var health = Create();
        health.Failed("a");
        health.Failed("a");

        health.Succeeded("a");

        Assert.True(health.IsAvailable("a"));
        Assert.Equal(TimeSpan.FromSeconds(10), health.Failed("a"));
    }

    [Fact]
    public void IsReachable_OnlyAfterAnAnswer_UntilTheNextFailure()
    {
        var health = Create();
        Assert.False(health.IsReachable("a"));
        Assert.False(health.AnyReachable(["a", "b"]));

        health.Succeeded("a");
        Assert.True(health.IsReachable("a"));
        Assert.True(health.AnyReachable(["b", "a"]));
        Assert.False(health.AnyReachable(["b"]));

        health.Failed("a");
        Assert.False(health.IsReachable("a"));
        Assert.False(health.AnyReachable(["a", "b"]));
    }

    [Fact]
    public void Retain_ForgetsThatARemovedTrackerAnswered()
    {
        var health = Create();
        health.Succeeded("a");

        health.Retain(["b"]);

        Assert.False(health.IsReachable("a"));
    }
}

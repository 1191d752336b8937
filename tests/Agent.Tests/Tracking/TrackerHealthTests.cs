using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Agent.Tracking;

namespace P2PRegistry.Agent.Tests.Tracking;

/// <summary>What TrackerHealth adds to PassiveHealth (whose back-off PassiveHealthTests, Core.Tests, covers): reachability.</summary>
public sealed class TrackerHealthTests
{
    private readonly FakeTimeProvider _time = new();

    private TrackerHealth Create() => new(_time, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30));

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

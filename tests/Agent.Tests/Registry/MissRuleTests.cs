using P2PRegistry.Agent.Registry;

namespace P2PRegistry.Agent.Tests.Registry;

/// <summary>When a blob miss is a fast 404 (no source, or no tracker to ask) and when it waits for a slow source.</summary>
public sealed class MissRuleTests
{
    private static readonly TimeSpan Miss = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Source = TimeSpan.FromSeconds(5);
    private readonly MissRule _rule = new(Miss, Source);

    [Fact]
    public void WhileResolving_TrackerReachable_WaitsTheSourceTimeout()
    {
        var budget = _rule.WhileResolving(trackerReachable: true);

        Assert.Equal(Source, budget.Limit);
        Assert.Contains("within 5 s", budget.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WhileResolving_NoTrackerReachable_IsTheMissTimeout()
    {
        var budget = _rule.WhileResolving(trackerReachable: false);

        Assert.Equal(Miss, budget.Limit);
        Assert.Contains("no tracker reachable", budget.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WhileAwaitingSource_PeersHandedOut_WaitsTheSourceTimeout(bool trackerReachable)
    {
        var budget = _rule.WhileAwaitingSource(peersHandedOut: 3, trackerReachable);

        Assert.Equal(Source, budget.Limit);
        Assert.Equal("no peer connected within 5 s", budget.Reason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WhileAwaitingSource_TrackerAnsweredNoPeers_IsTheMissTimeout(bool trackerReachable)
    {
        var budget = _rule.WhileAwaitingSource(peersHandedOut: 0, trackerReachable);

        Assert.Equal(Miss, budget.Limit);
        Assert.Equal("no peer serves it", budget.Reason);
    }

    [Fact]
    public void WhileAwaitingSource_AnnounceNotAnsweredYet_TrackerReachable_WaitsTheSourceTimeout()
    {
        var budget = _rule.WhileAwaitingSource(peersHandedOut: null, trackerReachable: true);

        Assert.Equal(Source, budget.Limit);
        Assert.Contains("announce", budget.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WhileAwaitingSource_AnnounceNotAnswered_NoTrackerReachable_IsTheMissTimeout()
    {
        var budget = _rule.WhileAwaitingSource(peersHandedOut: null, trackerReachable: false);

        Assert.Equal(Miss, budget.Limit);
    }

    [Fact]
    public void SourceTimeoutShorterThanTheMissTimeout_TheWaitIsNeverShorterThanTheMissTimeout()
    {
        var rule = new MissRule(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromSeconds(3), rule.WhileResolving(trackerReachable: true).Limit);
        Assert.Equal(TimeSpan.FromSeconds(3), rule.WhileAwaitingSource(2, trackerReachable: true).Limit);
    }
}

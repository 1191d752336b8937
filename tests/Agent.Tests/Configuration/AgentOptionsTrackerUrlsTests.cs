using P2PRegistry.Agent.Configuration;

namespace P2PRegistry.Agent.Tests.Configuration;

public sealed class AgentOptionsTrackerUrlsTests
{
    [Fact]
    public void EffectiveTrackerUrls_TrackerUrlsTakePrecedence()
    {
        Assert.Equal(["http://127.0.0.1:7001"], new AgentOptions().EffectiveTrackerUrls);
        Assert.Equal(["http://a:7001", "http://b:7001"], new AgentOptions { TrackerUrl = "http://x:7001", TrackerUrls = ["http://a:7001", "http://b:7001"] }.EffectiveTrackerUrls);
    }

    [Fact]
    public void Validate_BadTrackerUrls_NameTheIndex()
    {
        var errors = new AgentOptions { TrackerUrls = ["http://a:7001", "grpc://b", "http://A:7001/", "http://c:7001/path"] }.Validate().ToList();

        Assert.Contains(errors, e => e.StartsWith("Agent:TrackerUrls:1", StringComparison.Ordinal) && e.Contains("grpc://b", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:TrackerUrls:2", StringComparison.Ordinal) && e.Contains("listed before", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:TrackerUrls:3", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.StartsWith("Agent:TrackerUrls:0", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_TooManyTrackers_IsRefused()
    {
        var urls = Enumerable.Range(0, AgentOptions.MaxTrackers + 1).Select(i => $"http://t{i}:7001").ToList();

        Assert.Contains(new AgentOptions { TrackerUrls = urls }.Validate(), e => e.StartsWith("Agent:TrackerUrls lists", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_MissingSettingsFile_NamesIt()
    {
        Assert.Contains(new AgentOptions { SettingsFile = "/nonexistent/agent.json" }.Validate(), e => e.StartsWith("Agent:SettingsFile", StringComparison.Ordinal) && e.Contains("/nonexistent/agent.json", StringComparison.Ordinal));
    }
}

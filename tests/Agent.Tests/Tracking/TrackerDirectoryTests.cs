using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Agent.Tracking;
using P2PRegistry.Core.Placement;

namespace P2PRegistry.Agent.Tests.Tracking;

public sealed class TrackerDirectoryTests
{
    private readonly Dictionary<string, ScriptedTracker> _opened = [];

    private TrackerEndpoint Open(string url)
    {
        var tracker = new ScriptedTracker(url);
        _opened[url] = tracker;
        return tracker.Endpoint();
    }

    private static TrackerHealth Health() => new(new FakeTimeProvider(), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30));

    [Fact]
    public void Reload_TrackerAddedToTheSettings_JoinsTheSetAndKeepsTheOthersChannels()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:TrackerUrl"] = "http://ignored:7001", // TrackerUrls takes precedence
            ["Agent:TrackerUrls:0"] = "http://t0:7001",
            ["Agent:TrackerUrls:1"] = "http://T1:7001/",
        }).Build();
        using var directory = new TrackerDirectory(["http://t0:7001", "http://t1:7001"], Open, Health(), NullLogger<TrackerDirectory>.Instance, configuration);
        var before = directory.Current;

        configuration["Agent:TrackerUrls:2"] = "http://t2:7001";
        configuration.Reload();

        Assert.Equal(["http://t0:7001", "http://t1:7001", "http://t2:7001"], directory.Current.Endpoints.Select(e => e.Url));
        Assert.Same(before.Endpoints[0], directory.Current.Endpoints[0]);
        Assert.Same(before.Endpoints[1], directory.Current.Endpoints[1]);
        Assert.Equal(3, _opened.Count);
    }

    [Fact]
    public void Reload_TrackerRemoved_ClosesItsChannel()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:TrackerUrls:0"] = "http://t0:7001",
        }).Build();
        using var directory = new TrackerDirectory(["http://t0:7001", "http://t1:7001"], Open, Health(), NullLogger<TrackerDirectory>.Instance, configuration);

        configuration.Reload();

        Assert.Equal("http://t0:7001", Assert.Single(directory.Current.Endpoints).Url);
        Assert.True(_opened["http://t1:7001"].Disposed);
        Assert.False(_opened["http://t0:7001"].Disposed);
    }

    [Fact]
    public void Reload_InvalidList_KeepsTheCurrentSet()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Agent:TrackerUrls:0"] = "http://t0:7001",
            ["Agent:TrackerUrls:1"] = "grpc://nonsense",
        }).Build();
        using var directory = new TrackerDirectory(["http://t0:7001", "http://t1:7001"], Open, Health(), NullLogger<TrackerDirectory>.Instance, configuration);
        var before = directory.Current;

        configuration.Reload();

        Assert.Same(before, directory.Current);
    }

    [Fact]
    public void Order_ListOrderDoesNotMatter_EveryAgentRanksAKeyAlike()
    {
        var urls = new[] { "http://t0:7001", "http://t1:7001", "http://t2:7001", "http://t3:7001" };
        var one = new TrackerSet([.. urls.Select(u => new ScriptedTracker(u).Endpoint())]);
        var other = new TrackerSet([.. urls.Reverse().Select(u => new ScriptedTracker(u).Endpoint())]);
        var health = Health();

        for (var i = 0; i < 50; i++)
        {
            var key = Encoding.UTF8.GetBytes($"sha256:{i}");
            Assert.Equal(one.Order(key, health).Select(e => e.Url), other.Order(key, health).Select(e => e.Url));
        }
    }

    [Fact]
    public void Order_AFourthTrackerAdded_MovesOnlyTheKeysItNowRanksFirst()
    {
        var three = new TrackerSet([.. new[] { "http://t0:7001", "http://t1:7001", "http://t2:7001" }.Select(u => new ScriptedTracker(u).Endpoint())]);
        var four = new TrackerSet([.. three.Endpoints, new ScriptedTracker("http://t3:7001").Endpoint()]);
        var health = Health();

        var moved = 0;
        for (var i = 0; i < 1000; i++)
        {
            var key = Encoding.UTF8.GetBytes($"sha256:{i}");
            var before = three.Order(key, health)[0].Url;
            var after = four.Order(key, health)[0].Url;
            if (before != after)
            {
                Assert.Equal("http://t3:7001", after);
                moved++;
            }
        }

        Assert.InRange(moved, 150, 350); // about a quarter
    }

    [Fact]
    public void Order_SkippedTrackersComeLastInRankOrder()
    {
        var urls = new[] { "http://t0:7001", "http://t1:7001", "http://t2:7001" };
        var set = new TrackerSet([.. urls.Select(u => new ScriptedTracker(u).Endpoint())]);
        var key = "key"u8.ToArray();
        var ranked = new RendezvousRing(urls).Rank(key).Select(i => urls[i]).ToList();
        var health = Health();

        health.Failed(ranked[0]);

        Assert.Equal([ranked[1], ranked[2], ranked[0]], set.Order(key, health).Select(e => e.Url));
    }
}

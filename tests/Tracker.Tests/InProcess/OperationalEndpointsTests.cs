using System.Net;
using Grpc.Core;

namespace P2PRegistry.Tracker.Tests.InProcess;

public sealed class OperationalEndpointsTests
{
    [Fact]
    public async Task HealthReadyAndMetrics_OnTheHttpPort_Answer()
    {
        await using var tracker = await TrackerHost.StartAsync($"http://127.0.0.1:{TrackerHost.UnusedPort()}");
        var infoHash = Core.MetaInfos.InfoHash.Compute("metrics"u8);
        tracker.Know(infoHash);
        await tracker.Client.AnnounceAsync(Announces.Request(infoHash, 1, ip: ""), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)));

        using var health = await tracker.Http.GetAsync("healthz");
        using var ready = await tracker.Http.GetAsync("readyz");
        var metrics = await tracker.Http.GetStringAsync("metrics");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("p2pregistry_tracker_announces", metrics);
        Assert.Contains("p2pregistry_tracker_swarms", metrics);
        Assert.Contains("p2pregistry_tracker_peers", metrics);
    }
}

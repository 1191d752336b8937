using System.Diagnostics;
using System.Net;
using Grpc.Core;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.Tests.InProcess;

/// <summary>A tracker on the Redis store whose Redis is not there: it says so at once on both faces and is not ready.</summary>
public sealed class RedisUnavailableTests : IAsyncLifetime
{
    private static readonly InfoHash s_swarm = InfoHash.Compute("no-redis"u8);
    private TrackerHost _tracker = null!;

    public async Task InitializeAsync()
    {
        _tracker = await TrackerHost.StartAsync(
            $"http://127.0.0.1:{TrackerHost.UnusedPort()}",
            [.. TrackerHost.LoopbackTrusted, "--Tracker:PeerStore=Redis", $"--Tracker:Redis:Configuration=127.0.0.1:{TrackerHost.UnusedPort()}"]);
        _tracker.Know(s_swarm);
    }

    public async Task DisposeAsync() => await _tracker.DisposeAsync();

    [Fact]
    public async Task GrpcAnnounce_RedisUnreachable_FailsFastWithUnavailable()
    {
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RpcException>(async () => await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 1)));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("peer store is unavailable", error.Status.Detail, StringComparison.Ordinal);
        // Far below an agent's tracker timeout (10 s): it fails over rather than waits.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task HttpAnnounce_RedisUnreachable_AnswersAFailureReason()
    {
        var answer = await Bep3Announces.GetAsync(_tracker.Http, s_swarm, TestPeers.Id(2).ToArray(), "&port=6881&left=10&ip=10.0.0.2");

        Assert.Equal("the tracker's peer store is unavailable", Bep3Announces.Failure(answer));
    }

    [Fact]
    public async Task Readyz_RedisUnreachable_IsUnavailableAndSaysWhy_WhileHealthzIsFine()
    {
        using var ready = await _tracker.Http.GetAsync("readyz");
        using var healthy = await _tracker.Http.GetAsync("healthz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("peer-store", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    [Fact]
    public async Task Metrics_RedisUnreachable_CountStoreErrorsAndRefusals()
    {
        await Assert.ThrowsAsync<RpcException>(async () => await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 3)));

        var metrics = await _tracker.Http.GetStringAsync("metrics");

        Assert.Contains("p2pregistry_tracker_store_errors_total{operation=\"announce\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("reason=\"store_unavailable\"", metrics, StringComparison.Ordinal);
    }
}

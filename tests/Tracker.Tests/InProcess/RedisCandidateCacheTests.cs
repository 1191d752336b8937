using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing;
using P2PRegistry.Testing.Redis;

namespace P2PRegistry.Tracker.Tests.InProcess;

/// <summary>A tracker on Redis with its candidate cache on (the default): answers come from a swarm's cached sample, and never hand an asker itself.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class RedisCandidateCacheTests : IAsyncLifetime
{
    private static readonly InfoHash s_swarm = InfoHash.Compute("cached-redis-swarm"u8);
    private RedisServerProcess _redis = null!;
    private TrackerHost _tracker = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServerProcess.StartAsync();
        // A TTL far longer than the test, so every answer after the first read is a hit whatever the machine's load.
        _tracker = await TrackerHost.StartAsync(
            $"http://127.0.0.1:{TrackerHost.UnusedPort()}",
            [.. TrackerHost.LoopbackTrusted, "--Tracker:PeerStore=Redis", $"--Tracker:Redis:Configuration={_redis.Configuration}", "--Tracker:Redis:CandidateCacheTtl=00:00:30"]);
        _tracker.Know(s_swarm);
    }

    public async Task DisposeAsync()
    {
        await _tracker.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task GrpcAnnounce_FromTheCachedSample_NeverHandsTheAskerItself()
    {
        // The first announce reads the swarm (peer 1 alone) and caches the sample; it is never handed itself.
        var first = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 1));
        Assert.Empty(first.Peers);

        for (var peer = 2; peer <= 6; peer++)
        {
            var answer = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, peer));

            // Stored (the swarm grows in Redis) but answered from the sample read by peer 1's announce: peer 1 only.
            Assert.Equal([Announces.PeerId(1)], answer.Peers.Select(p => p.PeerId));
        }

        // Peer 1 again: its cached sample holds only itself, which it is never handed.
        var again = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 1, announceEvent: AnnounceEvent.None));
        Assert.Empty(again.Peers);

        // A stop through this tracker drops the sample: the next answer is read afresh, without the stopped peer.
        await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 1, announceEvent: AnnounceEvent.Stopped));
        var fresh = await _tracker.Client.AnnounceAsync(Announces.Request(s_swarm, 2, announceEvent: AnnounceEvent.None));
        Assert.Equal(
            new HashSet<string> { "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6" },
            fresh.Peers.Select(p => p.Ip).ToHashSet());
    }
}

using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing;
using P2PRegistry.Testing.Redis;
using P2PRegistry.Testing.Waiting;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Peers;

/// <summary>What only a shared store does: several trackers on one Redis, bounded reads, Redis going away and coming back.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class RedisPeerStoreTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private static readonly InfoHash s_swarm = InfoHash.Compute("redis-swarm"u8);
    private static readonly PeerStoreOptions s_options = new(TimeSpan.FromSeconds(90), 100, 10_000, 100_000, 1000, 1000);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<RedisPeerStore> _stores = [];
    private readonly string _prefix = $"test-{Guid.NewGuid():N}:";

    private RedisPeerStore Create(string configuration, int sampleSize = 100, TimeProvider? time = null, Task<StackExchange.Redis.ConnectionMultiplexer>? connection = null, PeerStoreOptions? options = null, TimeSpan cacheTtl = default)
    {
        var store = new RedisPeerStore(
            options ?? s_options, new RedisPeerStoreSettings(configuration, _prefix, sampleSize, cacheTtl), time ?? _time, new RedisPeerStoreMetrics(new TestMeterFactory()), NullLogger<RedisPeerStore>.Instance,
            connection ?? redis.Connection);
        _stores.Add(store);
        return store;
    }

    private static PeerRecord From(string address, int id) => new(TestPeers.Id(id), IPAddress.Parse(address), 6881, PeerRole.Agent, false, 10, default);

    [Fact]
    public async Task AnnounceAsync_TwoTrackersOnOneRedis_ShareTheSwarmAndItsOwnership()
    {
        // Two trackers: two stores, each with its own connection.
        await using var other = await RedisConnections.ConnectAsync(redis.Server.Configuration);
        var first = Create(redis.Server.Configuration);
        var second = Create(redis.Server.Configuration, connection: Task.FromResult(other));

        await first.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);
        var seen = await second.AnnounceAsync(s_swarm, From("10.0.0.2", 2), AnnounceEvent.Started, default);
        var hijack = await second.AnnounceAsync(s_swarm, From("10.0.0.66", 1), AnnounceEvent.Stopped, default);

        Assert.Equal(new HashSet<PeerId> { TestPeers.Id(1), TestPeers.Id(2) }, seen.Peers.Select(p => p.Id).ToHashSet());
        Assert.Equal(PeerStoreOutcome.PeerIdOwnedElsewhere, hijack.Outcome);
        Assert.True(await first.HasSwarmAsync(s_swarm, default));
        Assert.Equal(new PeerStoreStatistics(1, 2), second.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_SwarmLargerThanTheSample_ReadsARandomBoundedSample()
    {
        var store = Create(redis.Server.Configuration, sampleSize: 50);
        for (var i = 1; i <= 400; i++)
        {
            await store.AnnounceAsync(s_swarm, From($"10.0.{i / 256}.{i % 256}", i), AnnounceEvent.Started, default);
        }

        var union = new HashSet<PeerId>();
        for (var i = 0; i < 5; i++)
        {
            var result = await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.None, default);
            Assert.Equal(50, result.Peers.Count);
            Assert.Equal(50, result.Peers.Select(p => p.Id).Distinct().Count());
            union.UnionWith(result.Peers.Select(p => p.Id));
        }

        // Five random samples of 50 out of 400 cover far more than one sample would (a fixed slice would give exactly 50).
        Assert.True(union.Count > 100, $"five samples covered only {union.Count} peers");
        Assert.Equal(400, store.GetStatistics().Peers);
    }

    [Fact]
    public async Task AnnounceAsync_RedisKilled_FailsFastThenRecoversWhenRedisIsBack()
    {
        await using var own = await RedisServerProcess.StartAsync();
        await using var connection = await RedisConnections.ConnectAsync(own.Configuration);
        var store = Create(own.Configuration, time: TimeProvider.System, connection: Task.FromResult(connection));
        Assert.Equal(PeerStoreOutcome.Stored, (await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default)).Outcome);

        own.Kill();
        var watch = Stopwatch.StartNew();
        await Eventually.AssertAsync(async () =>
        {
            try
            {
                await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.None, default);
                return false;
            }
            catch (PeerStoreUnavailableException)
            {
                return true;
            }
        }, timeout: TimeSpan.FromSeconds(60));
        await Assert.ThrowsAsync<PeerStoreUnavailableException>(store.PingAsync);
        watch.Restart();
        await Assert.ThrowsAsync<PeerStoreUnavailableException>(async () => await store.AnnounceAsync(s_swarm, From("10.0.0.2", 2), AnnounceEvent.Started, default));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"a disconnected store took {watch.Elapsed} to fail");

        await own.RestartAsync();
        PeerStoreAnnounceResult result = default;
        await Eventually.AssertAsync(async () =>
        {
            try
            {
                result = await store.AnnounceAsync(s_swarm, From("10.0.0.2", 2), AnnounceEvent.Started, default);
                return true;
            }
            catch (PeerStoreUnavailableException)
            {
                return false;
            }
        }, timeout: TimeSpan.FromSeconds(60));

        // The restarted Redis is empty: the peer that announced again is listed, the one that has not yet is not.
        Assert.Equal(PeerStoreOutcome.Stored, result.Outcome);
        Assert.Equal(TestPeers.Id(2), Assert.Single(result.Peers).Id);
        await store.PingAsync();
    }

    [Fact]
    public async Task AnnounceAsync_ManyAtOnce_AreWrittenInFewerScriptCalls_EachWithItsOwnOutcome()
    {
        // At most 3 peers of one address in a swarm: the address 10.0.9.9 announces 6 peers among 120 others at once.
        var options = s_options with { MaxPeersPerAddressPerSwarm = 3 };
        var store = Create(redis.Server.Configuration, sampleSize: 200, options: options);
        // Peer 1 is registered from 10.0.0.1; an announce of its id from elsewhere, in the middle of the batch, is refused.
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);
        var before = store.WriteBatches;

        var announces = new List<(PeerRecord Peer, Task<PeerStoreAnnounceResult> Result)>();
        for (var i = 2; i <= 127; i++)
        {
            var peer = i % 20 == 0 ? From("10.0.9.9", i) : i == 64 ? From("10.0.0.66", 1) : From($"10.1.{i / 256}.{i % 256}", i);
            announces.Add((peer, store.AnnounceAsync(s_swarm, peer, AnnounceEvent.Started, default).AsTask()));
        }

        var outcomes = await Task.WhenAll(announces.Select(a => a.Result));

        var calls = store.WriteBatches - before;
        Assert.True(calls < announces.Count, $"{announces.Count} concurrent announces took {calls} script calls");
        var hijack = await announces.Single(a => a.Peer.Address.Equals(IPAddress.Parse("10.0.0.66"))).Result;
        Assert.Equal(PeerStoreOutcome.PeerIdOwnedElsewhere, hijack.Outcome);
        Assert.Empty(hijack.Peers);
        var quota = announces.Select((a, i) => (a.Peer, outcomes[i])).Where(a => a.Peer.Address.Equals(IPAddress.Parse("10.0.9.9"))).Select(a => a.Item2.Outcome).ToList();
        Assert.Equal(3, quota.Count(o => o == PeerStoreOutcome.Stored));
        Assert.Equal(3, quota.Count(o => o == PeerStoreOutcome.SwarmAddressQuota));
        for (var i = 0; i < announces.Count; i++)
        {
            var peer = announces[i].Peer;
            if (peer.Address.Equals(IPAddress.Parse("10.0.9.9")) || peer.Address.Equals(IPAddress.Parse("10.0.0.66")))
            {
                continue;
            }

            // Stored, and (no cache) its own read finds live peers. Not necessarily itself: the read takes the oldest of
            // the live members it counted, and under one fake instant those are ordered by their bytes; the other
            // writer's shard may have added lower ones between this announce's write and its read.
            Assert.Equal(PeerStoreOutcome.Stored, outcomes[i].Outcome);
            Assert.NotEmpty(outcomes[i].Peers);
        }

        // 1 + 119 others + 3 of the quota'd address. The totals are the last reply's: with two writers the reply that
        // landed last may be of the batch applied first, so one more announce (after all the others) reads them.
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.None, default);
        Assert.Equal(123, store.GetStatistics().Peers);
    }

    [Fact]
    public async Task AnnounceAsync_CandidateCache_AnswersFromOneReadUntilTheTtl_AndForgetsAStopAtOnce()
    {
        var store = Create(redis.Server.Configuration, cacheTtl: TimeSpan.FromSeconds(1));
        var first = await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);
        var second = await store.AnnounceAsync(s_swarm, From("10.0.0.2", 2), AnnounceEvent.Started, default);

        // The second announce is stored, and answered from the sample read by the first (which did not hold it yet).
        Assert.Equal(PeerStoreOutcome.Stored, second.Outcome);
        Assert.Equal([TestPeers.Id(1)], first.Peers.Select(p => p.Id));
        Assert.Equal([TestPeers.Id(1)], second.Peers.Select(p => p.Id));

        _time.Advance(TimeSpan.FromSeconds(1));
        var third = await store.AnnounceAsync(s_swarm, From("10.0.0.3", 3), AnnounceEvent.Started, default);
        Assert.Equal(new HashSet<PeerId> { TestPeers.Id(1), TestPeers.Id(2), TestPeers.Id(3) }, third.Peers.Select(p => p.Id).ToHashSet());

        // A stop through this tracker drops the swarm's cached sample: the next answer is read again, without it.
        Assert.Equal(PeerStoreOutcome.Removed, (await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Stopped, default)).Outcome);
        var fourth = await store.AnnounceAsync(s_swarm, From("10.0.0.2", 2), AnnounceEvent.None, default);
        Assert.Equal(new HashSet<PeerId> { TestPeers.Id(2), TestPeers.Id(3) }, fourth.Peers.Select(p => p.Id).ToHashSet());
    }

    [Fact]
    public async Task AnnounceAsync_CandidateCache_AnAnnounceWantingFewerGetsTheHeadOfTheSample()
    {
        var store = Create(redis.Server.Configuration, sampleSize: 10, cacheTtl: TimeSpan.FromSeconds(1));
        for (var i = 1; i <= 20; i++)
        {
            await store.AnnounceAsync(s_swarm, From($"10.0.0.{i}", i), AnnounceEvent.Started, default);
        }

        _time.Advance(TimeSpan.FromSeconds(2));
        var full = await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.None, default);
        var few = await store.AnnounceAsync(s_swarm, From("10.0.0.2", 2), AnnounceEvent.None, default, candidates: 4);

        Assert.Equal(10, full.Peers.Count);
        Assert.Equal(full.Peers.Take(4).Select(p => p.Id), few.Peers.Select(p => p.Id));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
    }
}

using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Peers;

public sealed class InMemoryPeerStoreTests
{
    private static readonly InfoHash s_swarm = InfoHash.Compute("swarm-a"u8);
    private static readonly InfoHash s_other = InfoHash.Compute("swarm-b"u8);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private InMemoryPeerStore CreateStore(int maxSwarms = 100, int maxPeers = 100) =>
        new(new PeerStoreOptions(TimeSpan.FromSeconds(90), maxSwarms, maxPeers), _time);

    [Fact]
    public async Task AnnounceAsync_TwoPeers_ReturnsBothWithLastSeenNow()
    {
        var store = CreateStore();

        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, false), AnnounceEvent.Started, default);
        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, true), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.Stored, result.Outcome);
        Assert.Equal(2, result.Peers.Count);
        Assert.All(result.Peers, p => Assert.Equal(_time.GetUtcNow(), p.LastSeen));
        Assert.Equal(new PeerStoreStatistics(1, 2), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_SamePeerAgain_ReplacesItsRecord()
    {
        var store = CreateStore();

        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, false), AnnounceEvent.Started, default);
        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Completed, default);

        Assert.True(Assert.Single(result.Peers).Complete);
        Assert.Equal(new PeerStoreStatistics(1, 1), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_Stopped_RemovesPeerAndEmptySwarm()
    {
        var store = CreateStore();
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, false), AnnounceEvent.Started, default);
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, false), AnnounceEvent.Started, default);

        var stopped = await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, false), AnnounceEvent.Stopped, default);
        Assert.Equal(PeerStoreOutcome.Removed, stopped.Outcome);
        var after = await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, false), AnnounceEvent.None, default);
        Assert.Equal(TestPeers.Id(2), Assert.Single(after.Peers).Id);

        await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, false), AnnounceEvent.Stopped, default);
        Assert.False(await store.HasSwarmAsync(s_swarm, default));
        Assert.Equal(new PeerStoreStatistics(0, 0), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_PeerSilentPastTtl_IsNotReturned()
    {
        var store = CreateStore();
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Started, default);

        _time.Advance(TimeSpan.FromSeconds(60));
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, false), AnnounceEvent.Started, default);
        _time.Advance(TimeSpan.FromSeconds(31)); // peer 1: 91 s > 90 s TTL; peer 2: 31 s.
        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(3, false), AnnounceEvent.Started, default);

        Assert.Equal(new HashSet<PeerId> { TestPeers.Id(2), TestPeers.Id(3) }, result.Peers.Select(p => p.Id).ToHashSet());
        Assert.Equal(3, store.GetStatistics().Peers); // the expired one is counted until the background sweep
        Assert.Equal(1, await store.SweepAsync(default));
        Assert.Equal(2, store.GetStatistics().Peers);
    }

    [Fact]
    public async Task AnnounceAsync_PeerReannouncingWithinTtl_StaysListed()
    {
        var store = CreateStore();
        for (var i = 0; i < 5; i++)
        {
            await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.None, default);
            _time.Advance(TimeSpan.FromSeconds(60));
        }

        Assert.True(await store.HasSwarmAsync(s_swarm, default));
    }

    [Fact]
    public async Task SweepAsync_ExpiredPeersInIdleSwarms_DropsThemAndTheSwarm()
    {
        var store = CreateStore();
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Started, default);
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, true), AnnounceEvent.Started, default);
        _time.Advance(TimeSpan.FromSeconds(50));
        await store.AnnounceAsync(s_other, TestPeers.Agent(3, true), AnnounceEvent.Started, default);
        _time.Advance(TimeSpan.FromSeconds(50));

        Assert.Equal(2, await store.SweepAsync(default));
        Assert.False(await store.HasSwarmAsync(s_swarm, default));
        Assert.True(await store.HasSwarmAsync(s_other, default));
        Assert.Equal(new PeerStoreStatistics(1, 1), store.GetStatistics());
    }

    [Fact]
    public async Task HasSwarmAsync_OnlyExpiredPeers_IsFalse()
    {
        var store = CreateStore();
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Started, default);

        _time.Advance(TimeSpan.FromSeconds(91));

        Assert.False(await store.HasSwarmAsync(s_swarm, default));
    }

    [Fact]
    public async Task AnnounceAsync_SwarmFull_DoesNotAddButStillReturnsPeers()
    {
        var store = CreateStore(maxPeers: 2);
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Started, default);
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, true), AnnounceEvent.Started, default);

        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(3, false), AnnounceEvent.Started, default);
        var refresh = await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.None, default);

        Assert.Equal(PeerStoreOutcome.SwarmFull, result.Outcome);
        Assert.Equal(2, result.Peers.Count);
        Assert.Equal(PeerStoreOutcome.Stored, refresh.Outcome);
    }

    [Fact]
    public async Task AnnounceAsync_TooManySwarms_RefusesNewSwarmUntilTheSweepDropsAnExpiredOne()
    {
        var store = CreateStore(maxSwarms: 1);
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Started, default);

        var refused = await store.AnnounceAsync(s_other, TestPeers.Agent(2, true), AnnounceEvent.Started, default);
        Assert.Equal(PeerStoreOutcome.TooManySwarms, refused.Outcome);
        Assert.Empty(refused.Peers);

        _time.Advance(TimeSpan.FromSeconds(91));
        var beforeSweep = await store.AnnounceAsync(s_other, TestPeers.Agent(2, true), AnnounceEvent.Started, default);
        Assert.Equal(PeerStoreOutcome.TooManySwarms, beforeSweep.Outcome); // an announce never sweeps the store

        Assert.Equal(1, await store.SweepAsync(default));
        var accepted = await store.AnnounceAsync(s_other, TestPeers.Agent(2, true), AnnounceEvent.Started, default);
        Assert.Equal(PeerStoreOutcome.Stored, accepted.Outcome);
        Assert.Equal(new PeerStoreStatistics(1, 1), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_ConcurrentAnnouncesAndStops_KeepCountsConsistent()
    {
        var store = CreateStore(maxSwarms: 1000, maxPeers: 1000);
        var hashes = Enumerable.Range(0, 8).Select(i => InfoHash.Compute([(byte)i])).ToArray();

        await Parallel.ForEachAsync(Enumerable.Range(0, 4000), async (i, ct) =>
        {
            var hash = hashes[i % hashes.Length];
            var peer = TestPeers.Agent(i % 50, false);
            await store.AnnounceAsync(hash, peer, i % 3 == 0 ? AnnounceEvent.Stopped : AnnounceEvent.None, ct);
        });

        var peers = 0;
        var swarms = 0;
        foreach (var hash in hashes)
        {
            if (await store.HasSwarmAsync(hash, default))
            {
                swarms++;
                var probe = await store.AnnounceAsync(hash, TestPeers.Agent(10_000, false), AnnounceEvent.None, default);
                peers += probe.Peers.Count - 1;
                await store.AnnounceAsync(hash, TestPeers.Agent(10_000, false), AnnounceEvent.Stopped, default);
            }
        }

        Assert.Equal(new PeerStoreStatistics(swarms, peers), store.GetStatistics());
    }
}

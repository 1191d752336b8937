using System.Net;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Peers;

/// <summary>Who may change a peer, and how many peers one address may hold.</summary>
public sealed class InMemoryPeerStoreAdmissionTests
{
    private static readonly InfoHash s_swarm = InfoHash.Compute("admission"u8);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private InMemoryPeerStore CreateStore(int maxPeersPerSwarm = 100, int maxPeers = 1000, int perAddress = 1000, int perAddressPerSwarm = 1000) =>
        new(new PeerStoreOptions(TimeSpan.FromSeconds(90), 100, maxPeersPerSwarm, maxPeers, perAddress, perAddressPerSwarm), _time);

    private static PeerRecord From(string address, int id, int port = 6881) =>
        new(TestPeers.Id(id), IPAddress.Parse(address), port, PeerRole.Agent, false, 10, default);

    private static InfoHash Swarm(int n) => InfoHash.Compute(BitConverter.GetBytes(n));

    [Fact]
    public async Task AnnounceAsync_StoppedWithAnotherAddressesPeerId_IsRefusedAndThePeerStays()
    {
        var store = CreateStore();
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);

        var stop = await store.AnnounceAsync(s_swarm, From("10.0.0.66", 1), AnnounceEvent.Stopped, default);
        var other = await store.AnnounceAsync(s_swarm, From("10.0.0.2", 2), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.PeerIdOwnedElsewhere, stop.Outcome);
        Assert.Contains(other.Peers, p => p.Id == TestPeers.Id(1) && p.Address.Equals(IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public async Task AnnounceAsync_UpdateWithAnotherAddressesPeerId_CannotMoveThePeer()
    {
        var store = CreateStore();
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);

        var moved = await store.AnnounceAsync(s_swarm, From("10.0.0.66", 1, port: 9999), AnnounceEvent.None, default);
        var other = await store.AnnounceAsync(s_swarm, From("10.0.0.2", 2), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.PeerIdOwnedElsewhere, moved.Outcome);
        Assert.Empty(moved.Peers);
        var peer = Assert.Single(other.Peers, p => p.Id == TestPeers.Id(1));
        Assert.True(peer.IsAt(IPAddress.Parse("10.0.0.1"), 6881));
    }

    [Fact]
    public async Task AnnounceAsync_OwnAddress_UpdatesAndStops()
    {
        var store = CreateStore();
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);

        var update = await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1, port: 7000), AnnounceEvent.None, default);
        var stop = await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1, port: 7000), AnnounceEvent.Stopped, default);

        Assert.Equal(PeerStoreOutcome.Stored, update.Outcome);
        Assert.Equal(PeerStoreOutcome.Removed, stop.Outcome);
        Assert.Equal(new PeerStoreStatistics(0, 0), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_ExpiredPeerId_CanBeTakenByAnotherAddress()
    {
        var store = CreateStore();
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);
        _time.Advance(TimeSpan.FromSeconds(91));

        var taken = await store.AnnounceAsync(s_swarm, From("10.0.0.9", 1), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.Stored, taken.Outcome);
        Assert.True(Assert.Single(taken.Peers).Address.Equals(IPAddress.Parse("10.0.0.9")));
        Assert.Equal(0, store.PeersOf(IPAddress.Parse("10.0.0.1")));
        Assert.Equal(1, store.PeersOf(IPAddress.Parse("10.0.0.9")));
    }

    [Fact]
    public async Task AnnounceAsync_OneAddressManyPeerIds_CappedPerSwarmWhileOthersGetIn()
    {
        var store = CreateStore(maxPeersPerSwarm: 10, perAddressPerSwarm: 2);
        var outcomes = new List<PeerStoreOutcome>();
        for (var i = 0; i < 20; i++)
        {
            outcomes.Add((await store.AnnounceAsync(s_swarm, From("10.0.0.66", 100 + i), AnnounceEvent.Started, default)).Outcome);
        }

        var real = await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);

        Assert.Equal(2, outcomes.Count(o => o == PeerStoreOutcome.Stored));
        Assert.Equal(18, outcomes.Count(o => o == PeerStoreOutcome.SwarmAddressQuota));
        Assert.Equal(PeerStoreOutcome.Stored, real.Outcome);
        Assert.Equal(3, real.Peers.Count);
    }

    [Fact]
    public async Task AnnounceAsync_OneAddressAcrossSwarms_CappedByItsQuota()
    {
        var store = CreateStore(perAddress: 3);

        var outcomes = new List<PeerStoreOutcome>();
        for (var i = 0; i < 5; i++)
        {
            outcomes.Add((await store.AnnounceAsync(Swarm(i), From("10.0.0.66", 1), AnnounceEvent.Started, default)).Outcome);
        }

        Assert.Equal([PeerStoreOutcome.Stored, PeerStoreOutcome.Stored, PeerStoreOutcome.Stored, PeerStoreOutcome.AddressQuota, PeerStoreOutcome.AddressQuota], outcomes);
        Assert.Equal(3, store.GetStatistics().Swarms); // a refused announce leaves no swarm behind
        Assert.Equal(PeerStoreOutcome.Stored, (await store.AnnounceAsync(Swarm(9), From("10.0.0.1", 2), AnnounceEvent.Started, default)).Outcome);
    }

    [Fact]
    public async Task AnnounceAsync_QuotaExempt_IsNotCappedPerAddress()
    {
        var store = CreateStore(perAddress: 1, perAddressPerSwarm: 1);

        for (var i = 0; i < 5; i++)
        {
            var result = await store.AnnounceAsync(Swarm(i % 2), From("127.0.0.1", 100 + i), AnnounceEvent.Started, default, quotaExempt: true);
            Assert.Equal(PeerStoreOutcome.Stored, result.Outcome);
        }
    }

    [Fact]
    public async Task AnnounceAsync_TotalPeersReached_IsRefused()
    {
        var store = CreateStore(maxPeers: 3);
        for (var i = 1; i <= 3; i++)
        {
            await store.AnnounceAsync(Swarm(i), From($"10.0.0.{i}", i), AnnounceEvent.Started, default);
        }

        var refused = await store.AnnounceAsync(Swarm(1), From("10.0.0.4", 4), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.TooManyPeers, refused.Outcome);
        Assert.Equal(new PeerStoreStatistics(3, 3), store.GetStatistics());
        Assert.Equal(0, store.PeersOf(IPAddress.Parse("10.0.0.4")));
    }

    [Fact]
    public async Task AnnounceAsync_SwarmFullOfExpiredPeers_DropsThemAndLetsTheLivePeerIn()
    {
        var store = CreateStore(maxPeersPerSwarm: 5);
        for (var i = 1; i <= 5; i++)
        {
            await store.AnnounceAsync(s_swarm, From($"10.0.1.{i}", i), AnnounceEvent.Started, default);
        }

        _time.Advance(TimeSpan.FromSeconds(91));
        var real = await store.AnnounceAsync(s_swarm, From("10.0.0.1", 50), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.Stored, real.Outcome);
        Assert.Equal(TestPeers.Id(50), Assert.Single(real.Peers).Id);
        Assert.Equal(1, store.GetStatistics().Peers);
    }
}

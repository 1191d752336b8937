using System.Net;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Peers;

/// <summary>
/// What every <see cref="IPeerStore"/> promises, run against each store (<see cref="InMemoryPeerStoreContractTests"/>,
/// <see cref="RedisPeerStoreContractTests"/>): handouts, expiry, ownership of peer ids, quotas, limits, round trips.
/// </summary>
public abstract class PeerStoreContractTests
{
    protected static readonly TimeSpan Ttl = TimeSpan.FromSeconds(90);
    private static readonly InfoHash s_swarm = InfoHash.Compute("contract-a"u8);
    private static readonly InfoHash s_other = InfoHash.Compute("contract-b"u8);

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private protected abstract IPeerStore CreateStore(PeerStoreOptions options);

    private IPeerStore Create(int maxSwarms = 100, int maxPeersPerSwarm = 100, int maxPeers = 1000, int perAddress = 1000, int perAddressPerSwarm = 1000) =>
        CreateStore(new PeerStoreOptions(Ttl, maxSwarms, maxPeersPerSwarm, maxPeers, perAddress, perAddressPerSwarm));

    private static PeerRecord From(string address, int id, int port = 6881) =>
        new(TestPeers.Id(id), IPAddress.Parse(address), port, PeerRole.Agent, false, 10, default);

    private static InfoHash Swarm(int n) => InfoHash.Compute(BitConverter.GetBytes(n));

    [Fact]
    public async Task AnnounceAsync_TwoPeers_ReturnsBothWithLastSeenNow()
    {
        var store = Create();

        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, false), AnnounceEvent.Started, default);
        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, true), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.Stored, result.Outcome);
        Assert.Equal(2, result.Peers.Count);
        Assert.All(result.Peers, p => Assert.Equal(Time.GetUtcNow(), p.LastSeen));
        Assert.Equal(new PeerStoreStatistics(1, 2), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_EveryField_RoundTrips()
    {
        var store = Create();
        var agent = new PeerRecord(TestPeers.Id(1), IPAddress.Parse("fd00::17"), 6881, PeerRole.Agent, false, 123_456_789_012, default)
        {
            Locality = new PeerLocality("eu west:1", "rack 7"),
        };
        var origin = TestPeers.Origin(2);

        await store.AnnounceAsync(s_swarm, agent, AnnounceEvent.Started, default);
        var result = await store.AnnounceAsync(s_swarm, origin, AnnounceEvent.Started, default, quotaExempt: true);

        Assert.Equal(agent with { LastSeen = Time.GetUtcNow() }, Assert.Single(result.Peers, p => p.Id == agent.Id));
        Assert.Equal(origin with { LastSeen = Time.GetUtcNow() }, Assert.Single(result.Peers, p => p.Id == origin.Id));
        Assert.Equal(agent.Locality, result.Peers.Single(p => p.Id == agent.Id).Locality);
        Assert.Equal(PeerLocality.Unknown, result.Peers.Single(p => p.Id == origin.Id).Locality);
    }

    [Fact]
    public async Task AnnounceAsync_FewerCandidatesThanTheSwarm_CompleteAgentsWholeThenASampleOfIncompleteAndNoOrigins()
    {
        var store = Create();
        for (var n = 1; n <= 3; n++)
        {
            await store.AnnounceAsync(s_swarm, From($"10.0.0.{n}", n) with { Complete = true }, AnnounceEvent.Started, default);
        }

        for (var n = 11; n <= 40; n++)
        {
            await store.AnnounceAsync(s_swarm, From($"10.0.0.{n}", n), AnnounceEvent.Started, default);
        }

        await store.AnnounceAsync(s_swarm, TestPeers.Origin(99), AnnounceEvent.Started, default, quotaExempt: true);

        var seen = new HashSet<PeerId>();
        for (var i = 0; i < 20; i++)
        {
            var result = await store.AnnounceAsync(s_swarm, From("10.0.0.11", 11), AnnounceEvent.None, default, candidates: 8);

            // The handout policy's order: every complete agent, then incomplete ones at random, origins only when room is left.
            Assert.Equal(8, result.Peers.Count);
            Assert.Equal(8, result.Peers.Select(p => p.Id).Distinct().Count());
            Assert.Equal(3, result.Peers.Count(p => p.Complete && p.Role == PeerRole.Agent));
            Assert.DoesNotContain(result.Peers, p => p.Role == PeerRole.Origin);
            seen.UnionWith(result.Peers.Where(p => !p.Complete).Select(p => p.Id));
        }

        // A sample, not a fixed slice: 20 announces of 5 incomplete places each cover far more than 5 of the 30.
        Assert.True(seen.Count > 10, $"the incomplete agents handed out were only {seen.Count}");
        Assert.Equal(new PeerStoreStatistics(1, 34), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_SamePeerAgain_ReplacesItsRecord()
    {
        var store = Create();

        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, false), AnnounceEvent.Started, default);
        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Completed, default);

        Assert.True(Assert.Single(result.Peers).Complete);
        Assert.Equal(new PeerStoreStatistics(1, 1), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_Stopped_RemovesPeerAndEmptySwarm()
    {
        var store = Create();
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
    public async Task AnnounceAsync_PeerSilentPastTtl_IsNotReturnedAndIsGoneAfterTheSweep()
    {
        var store = Create();
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Started, default);

        Time.Advance(TimeSpan.FromSeconds(60));
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, false), AnnounceEvent.Started, default);
        Time.Advance(TimeSpan.FromSeconds(31)); // peer 1: 91 s > 90 s TTL; peer 2: 31 s.
        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(3, false), AnnounceEvent.Started, default);

        Assert.Equal(new HashSet<PeerId> { TestPeers.Id(2), TestPeers.Id(3) }, result.Peers.Select(p => p.Id).ToHashSet());
        await store.SweepAsync(default);
        Assert.Equal(new PeerStoreStatistics(1, 2), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_PeerReannouncingWithinTtl_StaysListed()
    {
        var store = Create();
        for (var i = 0; i < 5; i++)
        {
            await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.None, default);
            Time.Advance(TimeSpan.FromSeconds(60));
        }

        Assert.True(await store.HasSwarmAsync(s_swarm, default));
    }

    [Fact]
    public async Task SweepAsync_ExpiredPeersInIdleSwarms_DropsThemAndTheSwarm()
    {
        var store = Create();
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Started, default);
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, true), AnnounceEvent.Started, default);
        Time.Advance(TimeSpan.FromSeconds(50));
        await store.AnnounceAsync(s_other, TestPeers.Agent(3, true), AnnounceEvent.Started, default);
        Time.Advance(TimeSpan.FromSeconds(50));

        Assert.Equal(2, await store.SweepAsync(default));
        Assert.False(await store.HasSwarmAsync(s_swarm, default));
        Assert.True(await store.HasSwarmAsync(s_other, default));
        Assert.Equal(new PeerStoreStatistics(1, 1), store.GetStatistics());
    }

    [Fact]
    public async Task HasSwarmAsync_OnlyExpiredPeers_IsFalse()
    {
        var store = Create();
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Started, default);

        Time.Advance(TimeSpan.FromSeconds(91));

        Assert.False(await store.HasSwarmAsync(s_swarm, default));
    }

    [Fact]
    public async Task AnnounceAsync_SwarmFull_DoesNotAddButStillReturnsPeers()
    {
        var store = Create(maxPeersPerSwarm: 2);
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
        var store = Create(maxSwarms: 1);
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, true), AnnounceEvent.Started, default);

        var refused = await store.AnnounceAsync(s_other, TestPeers.Agent(2, true), AnnounceEvent.Started, default);
        Assert.Equal(PeerStoreOutcome.TooManySwarms, refused.Outcome);
        Assert.Empty(refused.Peers);

        Time.Advance(TimeSpan.FromSeconds(91));
        var beforeSweep = await store.AnnounceAsync(s_other, TestPeers.Agent(2, true), AnnounceEvent.Started, default);
        Assert.Equal(PeerStoreOutcome.TooManySwarms, beforeSweep.Outcome); // an announce never sweeps the store

        Assert.Equal(1, await store.SweepAsync(default));
        var accepted = await store.AnnounceAsync(s_other, TestPeers.Agent(2, true), AnnounceEvent.Started, default);
        Assert.Equal(PeerStoreOutcome.Stored, accepted.Outcome);
        Assert.Equal(new PeerStoreStatistics(1, 1), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_StoppedWithAnotherAddressesPeerId_IsRefusedAndThePeerStays()
    {
        var store = Create();
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);

        var stop = await store.AnnounceAsync(s_swarm, From("10.0.0.66", 1), AnnounceEvent.Stopped, default);
        var other = await store.AnnounceAsync(s_swarm, From("10.0.0.2", 2), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.PeerIdOwnedElsewhere, stop.Outcome);
        Assert.Contains(other.Peers, p => p.Id == TestPeers.Id(1) && p.Address.Equals(IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public async Task AnnounceAsync_UpdateWithAnotherAddressesPeerId_CannotMoveThePeer()
    {
        var store = Create();
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);

        var moved = await store.AnnounceAsync(s_swarm, From("10.0.0.66", 1, port: 9999), AnnounceEvent.None, default);
        var other = await store.AnnounceAsync(s_swarm, From("10.0.0.2", 2), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.PeerIdOwnedElsewhere, moved.Outcome);
        Assert.Empty(moved.Peers);
        Assert.True(Assert.Single(other.Peers, p => p.Id == TestPeers.Id(1)).IsAt(IPAddress.Parse("10.0.0.1"), 6881));
    }

    [Fact]
    public async Task AnnounceAsync_OwnAddress_UpdatesAndStops()
    {
        var store = Create();
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);

        var update = await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1, port: 7000), AnnounceEvent.None, default);
        var stop = await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1, port: 7000), AnnounceEvent.Stopped, default);

        Assert.Equal(PeerStoreOutcome.Stored, update.Outcome);
        Assert.Equal(7000, Assert.Single(update.Peers).Port);
        Assert.Equal(PeerStoreOutcome.Removed, stop.Outcome);
        Assert.Equal(new PeerStoreStatistics(0, 0), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_ExpiredPeerId_CanBeTakenByAnotherAddressWhoseQuotaItThenCounts()
    {
        var store = Create(perAddress: 1);
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);
        Time.Advance(TimeSpan.FromSeconds(91));

        var taken = await store.AnnounceAsync(s_swarm, From("10.0.0.9", 1), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.Stored, taken.Outcome);
        Assert.True(Assert.Single(taken.Peers).Address.Equals(IPAddress.Parse("10.0.0.9")));
        // The old owner's quota was released (it may announce elsewhere), the new owner's taken.
        Assert.Equal(PeerStoreOutcome.Stored, (await store.AnnounceAsync(Swarm(1), From("10.0.0.1", 5), AnnounceEvent.Started, default)).Outcome);
        Assert.Equal(PeerStoreOutcome.AddressQuota, (await store.AnnounceAsync(Swarm(2), From("10.0.0.9", 6), AnnounceEvent.Started, default)).Outcome);
    }

    [Fact]
    public async Task AnnounceAsync_ExpiredPeerIdBeyondOnePruneBatch_ReturnsFromANewAddressWithExactQuotas()
    {
        // More expired peers than one announce prunes (the Redis store's batch is 64): the returning peer's own
        // expired record is still there when it announces from its new address.
        var store = Create(perAddress: 1, perAddressPerSwarm: 1);
        for (var i = 0; i < 70; i++)
        {
            Assert.Equal(PeerStoreOutcome.Stored, (await store.AnnounceAsync(s_swarm, From($"10.0.1.{i + 1}", 100 + i), AnnounceEvent.Started, default)).Outcome);
        }

        Time.Advance(TimeSpan.FromSeconds(1));
        await store.AnnounceAsync(s_swarm, From("10.0.0.1", 1), AnnounceEvent.Started, default);
        Time.Advance(TimeSpan.FromSeconds(91));

        var back = await store.AnnounceAsync(s_swarm, From("10.0.0.9", 1), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.Stored, back.Outcome);
        Assert.True(Assert.Single(back.Peers).Address.Equals(IPAddress.Parse("10.0.0.9")));
        // The old address holds nothing any more; the new one holds exactly this peer, in the swarm and in total.
        Assert.Equal(PeerStoreOutcome.Stored, (await store.AnnounceAsync(Swarm(1), From("10.0.0.1", 5), AnnounceEvent.Started, default)).Outcome);
        Assert.Equal(PeerStoreOutcome.SwarmAddressQuota, (await store.AnnounceAsync(s_swarm, From("10.0.0.9", 6), AnnounceEvent.Started, default)).Outcome);
        Assert.Equal(PeerStoreOutcome.AddressQuota, (await store.AnnounceAsync(Swarm(2), From("10.0.0.9", 7), AnnounceEvent.Started, default)).Outcome);
        Assert.Equal(PeerStoreOutcome.Removed, (await store.AnnounceAsync(s_swarm, From("10.0.0.9", 1), AnnounceEvent.Stopped, default)).Outcome);
        // Its quota comes back when it stops: the counter held one, not zero.
        Assert.Equal(PeerStoreOutcome.Stored, (await store.AnnounceAsync(Swarm(2), From("10.0.0.9", 7), AnnounceEvent.Started, default)).Outcome);
    }

    [Fact]
    public async Task AnnounceAsync_OneAddressManyPeerIds_CappedPerSwarmWhileOthersGetIn()
    {
        var store = Create(maxPeersPerSwarm: 10, perAddressPerSwarm: 2);
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
    public async Task AnnounceAsync_Ipv6AddressesOfOneSlash64_ShareAQuota()
    {
        var store = Create(perAddressPerSwarm: 1);

        var first = await store.AnnounceAsync(s_swarm, From("2001:db8:1:2::1", 1), AnnounceEvent.Started, default);
        var second = await store.AnnounceAsync(s_swarm, From("2001:db8:1:2::99", 2), AnnounceEvent.Started, default);
        var elsewhere = await store.AnnounceAsync(s_swarm, From("2001:db8:1:3::1", 3), AnnounceEvent.Started, default);

        Assert.Equal([PeerStoreOutcome.Stored, PeerStoreOutcome.SwarmAddressQuota, PeerStoreOutcome.Stored], [first.Outcome, second.Outcome, elsewhere.Outcome]);
    }

    [Fact]
    public async Task AnnounceAsync_OneAddressAcrossSwarms_CappedByItsQuota()
    {
        var store = Create(perAddress: 3);

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
        var store = Create(perAddress: 1, perAddressPerSwarm: 1);

        for (var i = 0; i < 5; i++)
        {
            var result = await store.AnnounceAsync(Swarm(i % 2), From("127.0.0.1", 100 + i), AnnounceEvent.Started, default, quotaExempt: true);
            Assert.Equal(PeerStoreOutcome.Stored, result.Outcome);
        }
    }

    [Fact]
    public async Task AnnounceAsync_TotalPeersReached_IsRefused()
    {
        var store = Create(maxPeers: 3);
        for (var i = 1; i <= 3; i++)
        {
            await store.AnnounceAsync(Swarm(i), From($"10.0.0.{i}", i), AnnounceEvent.Started, default);
        }

        var refused = await store.AnnounceAsync(Swarm(1), From("10.0.0.4", 4), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.TooManyPeers, refused.Outcome);
        Assert.Equal(new PeerStoreStatistics(3, 3), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_SwarmFullOfExpiredPeers_DropsThemAndLetsTheLivePeerIn()
    {
        var store = Create(maxPeersPerSwarm: 5);
        for (var i = 1; i <= 5; i++)
        {
            await store.AnnounceAsync(s_swarm, From($"10.0.1.{i}", i), AnnounceEvent.Started, default);
        }

        Time.Advance(TimeSpan.FromSeconds(91));
        var real = await store.AnnounceAsync(s_swarm, From("10.0.0.1", 50), AnnounceEvent.Started, default);

        Assert.Equal(PeerStoreOutcome.Stored, real.Outcome);
        Assert.Equal(TestPeers.Id(50), Assert.Single(real.Peers).Id);
        Assert.Equal(1, store.GetStatistics().Peers);
    }

    [Fact]
    public async Task AnnounceAsync_Sampled_LeavesOutExpiredPeers()
    {
        var store = Create();
        for (var n = 1; n <= 4; n++)
        {
            await store.AnnounceAsync(s_swarm, TestPeers.Agent(n, complete: true), AnnounceEvent.Started, default);
        }

        Time.Advance(Ttl + TimeSpan.FromSeconds(1));
        var withTheLiveOne = 0;
        for (var i = 0; i < 50; i++)
        {
            // Up to 3 of the group's 5 (4 expired until the sweep): what comes back is live, and only that.
            var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(10, complete: true), AnnounceEvent.None, default, candidates: 3);
            Assert.All(result.Peers, p => Assert.Equal(TestPeers.Id(10), p.Id));
            withTheLiveOne += result.Peers.Count;
        }

        // Expired peers take no place: the live one comes back every time.
        Assert.Equal(50, withTheLiveOne);
    }

    [Fact]
    public async Task AnnounceAsync_ExpiredGroupBiggerThanTheCandidates_TakesNoPlaceAndLaterGroupsAreRead()
    {
        var store = Create();
        for (var n = 1; n <= 60; n++)
        {
            await store.AnnounceAsync(s_swarm, From($"10.0.0.{n}", n) with { Complete = true }, AnnounceEvent.Started, default);
        }

        Time.Advance(Ttl + TimeSpan.FromSeconds(1));
        for (var n = 61; n <= 65; n++)
        {
            await store.AnnounceAsync(s_swarm, From($"10.0.1.{n}", n), AnnounceEvent.Started, default);
        }

        await store.AnnounceAsync(s_swarm, TestPeers.Origin(99), AnnounceEvent.Started, default, quotaExempt: true);

        // 60 complete agents, all expired (not swept yet), more than the 50 places: the live ones of the later groups fill them.
        var result = await store.AnnounceAsync(s_swarm, From("10.0.1.61", 61), AnnounceEvent.None, default, candidates: 50);

        var expected = Enumerable.Range(61, 5).Select(TestPeers.Id).Append(TestPeers.Origin(99).Id).ToHashSet();
        Assert.Equal(expected, result.Peers.Select(p => p.Id).ToHashSet());
        Assert.Equal(6, result.Peers.Count);
    }

    [Fact]
    public async Task AnnounceAsync_SampledGroupPartlyExpired_FillsEveryPlaceWithLivePeers()
    {
        var store = Create(maxPeersPerSwarm: 1000);
        for (var n = 1; n <= 20; n++)
        {
            await store.AnnounceAsync(s_swarm, From($"10.0.0.{n}", n) with { Complete = true }, AnnounceEvent.Started, default);
        }

        Time.Advance(Ttl + TimeSpan.FromSeconds(1));
        for (var n = 101; n <= 160; n++)
        {
            await store.AnnounceAsync(s_swarm, From($"10.0.1.{n - 100}", n) with { Complete = true }, AnnounceEvent.Started, default);
        }

        var live = Enumerable.Range(101, 60).Select(TestPeers.Id).ToHashSet();
        for (var i = 0; i < 10; i++)
        {
            // 80 complete agents, 20 of them expired: 50 places, 60 live ones to fill them from, nothing expired handed out
            // (a sample of 50 and a few more from the 80 holds about 48 live ones: the shortfall is made up with live ones).
            var result = await store.AnnounceAsync(s_swarm, From("10.0.1.1", 101) with { Complete = true }, AnnounceEvent.None, default, candidates: 50);

            Assert.Equal(50, result.Peers.Count);
            Assert.Equal(50, result.Peers.Select(p => p.Id).Distinct().Count());
            Assert.Subset(live, result.Peers.Select(p => p.Id).ToHashSet());
        }
    }

    [Fact]
    public async Task AnnounceAsync_ConcurrentAnnouncesAndStops_KeepCountsConsistent()
    {
        var store = Create(maxSwarms: 1000, maxPeersPerSwarm: 1000);
        var hashes = Enumerable.Range(0, 8).Select(i => InfoHash.Compute([(byte)i])).ToArray();

        await Parallel.ForEachAsync(Enumerable.Range(0, 2000), async (i, ct) =>
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

public sealed class InMemoryPeerStoreContractTests : PeerStoreContractTests
{
    private protected override IPeerStore CreateStore(PeerStoreOptions options) => new InMemoryPeerStore(options, Time);
}

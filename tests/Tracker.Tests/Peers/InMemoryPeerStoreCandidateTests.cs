using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Peers;

/// <summary>The store's bounded answer (<see cref="PeerStoreOptions.MaxCandidates"/>): groups in handout order, a random sample of the one that does not fit.</summary>
public sealed class InMemoryPeerStoreCandidateTests
{
    private static readonly InfoHash s_swarm = InfoHash.Compute("swarm-a"u8);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private InMemoryPeerStore CreateStore(int max) =>
        new(new PeerStoreOptions(TimeSpan.FromSeconds(90), 10, 10_000, MaxCandidates: max), _time);

    [Fact]
    public async Task AnnounceAsync_OverTheBound_CompleteWholeThenASampleOfIncompleteAndNoOrigins()
    {
        var store = CreateStore(max: 8);
        for (var n = 1; n <= 100; n++)
        {
            await store.AnnounceAsync(s_swarm, TestPeers.Agent(n, complete: false), AnnounceEvent.Started, default);
        }

        for (var n = 101; n <= 103; n++)
        {
            await store.AnnounceAsync(s_swarm, TestPeers.Agent(n, complete: true), AnnounceEvent.Started, default);
        }

        await store.AnnounceAsync(s_swarm, TestPeers.Origin(200), AnnounceEvent.Started, default, quotaExempt: true);

        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, complete: false), AnnounceEvent.None, default);

        // The handout policy ranks complete agents first, then incomplete, origins last: the bound keeps that order.
        Assert.Equal(8, result.Peers.Count);
        Assert.Equal(result.Peers.Count, result.Peers.Select(p => p.Id).Distinct().Count());
        Assert.Equal(3, result.Peers.Count(p => p.Complete && p.Role == PeerRole.Agent));
        Assert.Equal(5, result.Peers.Count(p => !p.Complete));
        Assert.DoesNotContain(result.Peers, p => p.Role == PeerRole.Origin);
        Assert.Equal(new PeerStoreStatistics(1, 104), store.GetStatistics());
    }

    [Fact]
    public async Task AnnounceAsync_UnderTheBound_EveryGroupWhole()
    {
        var store = CreateStore(max: 10);
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, complete: false), AnnounceEvent.Started, default);
        await store.AnnounceAsync(s_swarm, TestPeers.Agent(2, complete: true), AnnounceEvent.Started, default);
        await store.AnnounceAsync(s_swarm, TestPeers.Origin(3), AnnounceEvent.Started, default, quotaExempt: true);

        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(4, complete: false), AnnounceEvent.Started, default);

        Assert.Equal(new HashSet<PeerId> { TestPeers.Id(1), TestPeers.Id(2), TestPeers.Id(3), TestPeers.Id(4) }, result.Peers.Select(p => p.Id).ToHashSet());
    }

    [Fact]
    public async Task AnnounceAsync_Sampled_EveryPeerComesUpAndNoneMoreThanItsShare()
    {
        var store = CreateStore(max: 10);
        for (var n = 1; n <= 50; n++)
        {
            await store.AnnounceAsync(s_swarm, TestPeers.Agent(n, complete: true), AnnounceEvent.Started, default);
        }

        var seen = new Dictionary<PeerId, int>();
        const int Rounds = 2000;
        for (var i = 0; i < Rounds; i++)
        {
            var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(1 + (i % 50), complete: true), AnnounceEvent.None, default);
            Assert.Equal(10, result.Peers.Count);
            foreach (var peer in result.Peers)
            {
                seen[peer.Id] = seen.GetValueOrDefault(peer.Id) + 1;
            }
        }

        // Uniform: each of 50 peers is in a sample of 10 with probability 1/5, i.e. 400 of 2000 times (σ ≈ 18).
        Assert.Equal(50, seen.Count);
        Assert.All(seen.Values, count => Assert.InRange(count, 300, 500));
    }

    [Fact]
    public async Task AnnounceAsync_Completed_MovesPeerToTheCompleteGroup()
    {
        var store = CreateStore(max: 3);
        for (var n = 1; n <= 6; n++)
        {
            await store.AnnounceAsync(s_swarm, TestPeers.Agent(n, complete: false), AnnounceEvent.Started, default);
        }

        await store.AnnounceAsync(s_swarm, TestPeers.Agent(4, complete: true), AnnounceEvent.Completed, default);
        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, complete: false), AnnounceEvent.None, default);

        // The one complete peer always comes back (its group comes first), beside two of the five incomplete.
        Assert.Equal(TestPeers.Id(4), Assert.Single(result.Peers, p => p.Complete).Id);
        Assert.Equal(2, result.Peers.Count(p => !p.Complete));
        Assert.DoesNotContain(result.Peers, p => p.Id == TestPeers.Id(4) && !p.Complete);
    }

    [Fact]
    public async Task AnnounceAsync_StoppedAndSwept_GroupsStayConsistent()
    {
        var store = CreateStore(max: 100);
        for (var n = 1; n <= 20; n++)
        {
            await store.AnnounceAsync(s_swarm, TestPeers.Agent(n, complete: n % 2 == 0), AnnounceEvent.Started, default);
        }

        // Remove from the middle of both groups (a swap-remove each), then check what is left is exactly the rest.
        foreach (var n in new[] { 2, 3, 10, 11, 20 })
        {
            await store.AnnounceAsync(s_swarm, TestPeers.Agent(n, complete: n % 2 == 0), AnnounceEvent.Stopped, default);
        }

        var result = await store.AnnounceAsync(s_swarm, TestPeers.Agent(1, complete: false), AnnounceEvent.None, default);
        var expected = Enumerable.Range(1, 20).Except([2, 3, 10, 11, 20]).Select(TestPeers.Id).ToHashSet();
        Assert.Equal(expected, result.Peers.Select(p => p.Id).ToHashSet());
        Assert.Equal(15, result.Peers.Count);
    }
}

using System.Net;
using P2PRegistry.Tracker.Handout;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Handout;

public sealed class PeerHandoutPolicyTests
{
    private static readonly HandoutSettings s_settings = new(50, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
    private static readonly IPAddress s_askerAddress = IPAddress.Parse("192.168.9.9");

    [Fact]
    public void Select_MixedSwarm_OrdersCompleteAgentsThenIncompleteThenOrigins()
    {
        var policy = new PeerHandoutPolicy(s_settings);
        var candidates = new List<PeerRecord>
        {
            TestPeers.Origin(1), TestPeers.Agent(2, complete: false), TestPeers.Agent(3, complete: true),
            TestPeers.Origin(4), TestPeers.Agent(5, complete: true), TestPeers.Agent(6, complete: false),
        };

        var selected = policy.Select(candidates, TestPeers.Id(99), s_askerAddress, 1, 0, new Random(1));

        Assert.Equal(6, selected.Count);
        Assert.All(selected.Take(2), p => Assert.True(p.Role == PeerRole.Agent && p.Complete));
        Assert.All(selected.Skip(2).Take(2), p => Assert.True(p.Role == PeerRole.Agent && !p.Complete));
        Assert.All(selected.Skip(4), p => Assert.Equal(PeerRole.Origin, p.Role));
    }

    [Fact]
    public void Select_AskerInSwarm_NeverReturnsAskerById()
    {
        var policy = new PeerHandoutPolicy(s_settings);
        var candidates = Enumerable.Range(1, 10).Select(n => TestPeers.Agent(n, complete: true)).ToList();

        var selected = policy.Select(candidates, TestPeers.Id(3), s_askerAddress, 1, 0, new Random(2));

        Assert.Equal(9, selected.Count);
        Assert.DoesNotContain(selected, p => p.Id == TestPeers.Id(3));
    }

    [Fact]
    public void Select_OldEntryAtAskersAddress_IsNotReturned()
    {
        var policy = new PeerHandoutPolicy(s_settings);
        var stale = TestPeers.Agent(7, complete: true);
        var candidates = new List<PeerRecord> { stale, TestPeers.Agent(8, complete: true) };

        // The asker restarted with a new id but listens where the old entry says.
        var selected = policy.Select(candidates, TestPeers.Id(100), stale.Address, stale.Port, 0, new Random(3));

        Assert.Equal(TestPeers.Id(8), Assert.Single(selected).Id);
    }

    [Fact]
    public void Select_SameAddressOtherPort_IsReturned()
    {
        var policy = new PeerHandoutPolicy(s_settings);
        var other = TestPeers.Agent(7, complete: true);

        var selected = policy.Select([other], TestPeers.Id(100), other.Address, other.Port + 1, 0, new Random(3));

        Assert.Single(selected);
    }

    [Theory]
    [InlineData(0, 50)]
    [InlineData(10, 10)]
    [InlineData(500, 50)]
    public void Select_LargeSwarm_CapsAtNumWantAndMax(int numWant, int expected)
    {
        var policy = new PeerHandoutPolicy(s_settings);
        var candidates = Enumerable.Range(1, 200).Select(n => TestPeers.Agent(n, complete: n % 2 == 0)).ToList();

        var selected = policy.Select(candidates, TestPeers.Id(999), s_askerAddress, 1, numWant, new Random(4));

        Assert.Equal(expected, selected.Count);
        Assert.Equal(expected, selected.Select(p => p.Id).Distinct().Count());
    }

    [Fact]
    public void Select_MoreCompleteAgentsThanLimit_FillsOnlyWithCompleteAgents()
    {
        var policy = new PeerHandoutPolicy(s_settings with { MaxPeers = 5 });
        var candidates = new List<PeerRecord>();
        candidates.AddRange(Enumerable.Range(1, 3).Select(TestPeers.Origin));
        candidates.AddRange(Enumerable.Range(10, 20).Select(n => TestPeers.Agent(n, complete: false)));
        candidates.AddRange(Enumerable.Range(100, 8).Select(n => TestPeers.Agent(n, complete: true)));

        var selected = policy.Select(candidates, TestPeers.Id(999), s_askerAddress, 1, 0, new Random(5));

        Assert.Equal(5, selected.Count);
        Assert.All(selected, p => Assert.True(p.Complete && p.Role == PeerRole.Agent));
    }

    [Fact]
    public void Select_ManyDraws_PicksEveryEqualPeerAboutEquallyOften()
    {
        var policy = new PeerHandoutPolicy(s_settings with { MaxPeers = 2 });
        var candidates = Enumerable.Range(1, 10).Select(n => TestPeers.Agent(n, complete: true)).ToList();
        var random = new Random(6);
        var counts = new Dictionary<PeerId, int>();

        for (var i = 0; i < 5000; i++)
        {
            foreach (var peer in policy.Select(candidates, TestPeers.Id(999), s_askerAddress, 1, 0, random))
            {
                counts[peer.Id] = counts.GetValueOrDefault(peer.Id) + 1;
            }
        }

        // 10000 picks over 10 peers: each expects 1000; a fixed order would give 5000 to two of them.
        Assert.Equal(10, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void Select_DifferentSeeds_GiveDifferentOrders()
    {
        var policy = new PeerHandoutPolicy(s_settings);
        var candidates = Enumerable.Range(1, 20).Select(n => TestPeers.Agent(n, complete: true)).ToList();

        var orders = Enumerable.Range(0, 5)
            .Select(seed => string.Join(',', policy.Select(candidates, TestPeers.Id(999), s_askerAddress, 1, 0, new Random(seed)).Select(p => p.Port)))
            .ToHashSet();

        Assert.True(orders.Count > 1);
    }

    [Fact]
    public void IntervalFor_SeedingAndDownloading_UsesTheirSettings()
    {
        var policy = new PeerHandoutPolicy(s_settings);

        Assert.Equal(TimeSpan.FromSeconds(30), policy.IntervalFor(complete: true));
        Assert.Equal(TimeSpan.FromSeconds(2), policy.IntervalFor(complete: false));
        Assert.Equal(TimeSpan.FromSeconds(1), policy.MinInterval);
    }
}

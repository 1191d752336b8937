using System.Net;
using P2PRegistry.Tracker.Handout;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Handout;

/// <summary>The handout's locality order: the asker's rack, then its zone, then others (a kept share), origins last.</summary>
public sealed class LocalityHandoutTests
{
    private static readonly HandoutSettings s_settings = new(10, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
    private static readonly IPAddress s_askerAddress = IPAddress.Parse("192.168.9.9");
    private static readonly PeerLocality s_asker = new("a", "r1");

    private static PeerRecord Agent(int n, string zone, string rack, bool complete = true) =>
        TestPeers.Agent(n, complete) with { Locality = PeerLocality.From(zone, rack) };

    private static IReadOnlyList<PeerRecord> Select(HandoutSettings settings, IReadOnlyList<PeerRecord> candidates, int seed, PeerLocality? asker = null, int numWant = 0) =>
        new PeerHandoutPolicy(settings).Select(candidates, TestPeers.Id(999), s_askerAddress, 1, numWant, new Random(seed), asker ?? s_asker);

    /// <summary>4 in the asker's rack, 4 elsewhere in its zone, 12 in zone b, 2 origins: 22 candidates for 10 places.</summary>
    private static List<PeerRecord> MixedSwarm()
    {
        var peers = new List<PeerRecord>();
        peers.AddRange(Enumerable.Range(1, 4).Select(n => Agent(n, "a", "r1")));
        peers.AddRange(Enumerable.Range(11, 4).Select(n => Agent(n, "a", "r2")));
        peers.AddRange(Enumerable.Range(21, 12).Select(n => Agent(n, "b", "r1")));
        peers.Add(TestPeers.Origin(91));
        peers.Add(TestPeers.Origin(92));
        return peers;
    }

    [Fact]
    public void Select_TwoZones_SameRackThenSameZoneThenTheRemoteShare()
    {
        var selected = Select(s_settings, MixedSwarm(), seed: 1);

        // 10 places, remote share 0.2: 2 kept for zone b, 8 for the asker's zone (its 4 rack peers first).
        Assert.Equal(10, selected.Count);
        Assert.All(selected.Take(4), p => Assert.Equal(new PeerLocality("a", "r1"), p.Locality));
        Assert.All(selected.Skip(4).Take(4), p => Assert.Equal(new PeerLocality("a", "r2"), p.Locality));
        Assert.All(selected.Skip(8), p => Assert.Equal("b", p.Locality.Zone));
    }

    [Fact]
    public void Select_ManyLocalPeers_StillKeepsAtLeastOneRemote()
    {
        var candidates = Enumerable.Range(1, 40).Select(n => Agent(n, "a", "r1")).Append(Agent(100, "b", "r9")).ToList();

        // 3 places × 0.2 rounds to 1; 5 places × 0.05 rounds to 0 but at least one is kept.
        var three = Select(s_settings, candidates, seed: 2, numWant: 3);
        var five = Select(s_settings with { RemoteShare = 0.05 }, candidates, seed: 2, numWant: 5);

        Assert.Equal(["a", "a", "b"], three.Select(p => p.Locality.Zone));
        Assert.Equal("b", five[^1].Locality.Zone);
        Assert.Equal(1, five.Count(p => p.Locality.Zone == "b"));
    }

    [Fact]
    public void Select_RemoteShareZero_OnlyLocalWhileEnough()
    {
        var selected = Select(s_settings with { RemoteShare = 0 }, MixedSwarm(), seed: 3, numWant: 8);

        Assert.All(selected, p => Assert.Equal("a", p.Locality.Zone));
    }

    [Fact]
    public void Select_FewLocalPeers_FillsTheRestWithRemote()
    {
        var candidates = new List<PeerRecord> { Agent(1, "a", "r2") };
        candidates.AddRange(Enumerable.Range(21, 20).Select(n => Agent(n, "b", "")));

        var selected = Select(s_settings, candidates, seed: 4);

        Assert.Equal(10, selected.Count);
        Assert.Equal("a", selected[0].Locality.Zone);
        Assert.All(selected.Skip(1), p => Assert.Equal("b", p.Locality.Zone));
    }

    [Fact]
    public void Select_OneAskedFor_GetsTheNearest()
    {
        var selected = Select(s_settings, MixedSwarm(), seed: 5, numWant: 1);

        Assert.Equal(new PeerLocality("a", "r1"), Assert.Single(selected).Locality);
    }

    [Fact]
    public void Select_UnknownLocality_TreatedAsRemote()
    {
        var candidates = new List<PeerRecord>();
        candidates.AddRange(Enumerable.Range(1, 20).Select(n => Agent(n, "", "")));
        candidates.AddRange(Enumerable.Range(31, 3).Select(n => Agent(n, "a", "")));

        var selected = Select(s_settings, candidates, seed: 6);

        // The 3 of the asker's zone first; peers that said nothing fill the rest like any other zone's.
        Assert.All(selected.Take(3), p => Assert.Equal("a", p.Locality.Zone));
        Assert.All(selected.Skip(3), p => Assert.Equal(PeerLocality.Unknown, p.Locality));
    }

    [Fact]
    public void Select_SameRackNameInAnotherZone_IsNotTheSameRack()
    {
        var candidates = new List<PeerRecord> { Agent(1, "b", "r1"), Agent(2, "a", "r5") };

        var selected = Select(s_settings, candidates, seed: 7, numWant: 2);

        Assert.Equal(["a", "b"], selected.Select(p => p.Locality.Zone));
    }

    [Fact]
    public void Select_AskerWithoutZone_NoLocalityOrder()
    {
        var candidates = new List<PeerRecord> { Agent(1, "a", "r1", complete: false), Agent(2, "b", "r1", complete: true) };

        var selected = Select(s_settings, candidates, seed: 8, asker: PeerLocality.Unknown);

        // Complete before incomplete, whatever the zones say.
        Assert.Equal([2, 1], selected.Select(p => p.Port - 6000));
    }

    [Fact]
    public void Select_LocalityOff_IgnoresLabels()
    {
        var candidates = new List<PeerRecord> { Agent(1, "a", "r1", complete: false), Agent(2, "b", "r1", complete: true) };

        var selected = Select(s_settings with { Locality = false }, candidates, seed: 9);

        Assert.Equal([2, 1], selected.Select(p => p.Port - 6000));
    }

    [Fact]
    public void Select_InsideATier_CompleteBeforeIncomplete()
    {
        var candidates = new List<PeerRecord> { Agent(1, "a", "r1", complete: false), Agent(2, "a", "r1", complete: true), Agent(3, "a", "r2", complete: true) };

        var selected = Select(s_settings, candidates, seed: 10);

        Assert.Equal([2, 1, 3], selected.Select(p => p.Port - 6000));
    }

    [Fact]
    public void Select_OriginsInTheSwarm_AlwaysLast()
    {
        var candidates = new List<PeerRecord> { TestPeers.Origin(91), Agent(21, "b", ""), Agent(1, "a", "r1") };

        var selected = Select(s_settings, candidates, seed: 11);

        Assert.Equal(PeerRole.Origin, selected[^1].Role);
        Assert.Equal(["a", "b"], selected.Take(2).Select(p => p.Locality.Zone));
    }

    [Fact]
    public void Select_ManyDraws_EqualPeersOfATierPickedAboutEquallyOften()
    {
        // 10 in the asker's zone for 4 local places; 10 remote for 1 kept place: each local one expects 0.4 × draws.
        var candidates = Enumerable.Range(1, 10).Select(n => Agent(n, "a", "")).Concat(Enumerable.Range(21, 10).Select(n => Agent(n, "b", ""))).ToList();
        var policy = new PeerHandoutPolicy(s_settings);
        var random = new Random(12);
        var counts = new Dictionary<int, int>();

        for (var i = 0; i < 5000; i++)
        {
            foreach (var peer in policy.Select(candidates, TestPeers.Id(999), s_askerAddress, 1, 5, random, s_asker with { Rack = "" }))
            {
                counts[peer.Port - 6000] = counts.GetValueOrDefault(peer.Port - 6000) + 1;
            }
        }

        Assert.Equal(20, counts.Count);
        Assert.All(Enumerable.Range(1, 10), n => Assert.InRange(counts[n], 1700, 2300));
        Assert.All(Enumerable.Range(21, 10), n => Assert.InRange(counts[n], 350, 650));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Constructor_RemoteShareOutOfRange_Throws(double share) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeerHandoutPolicy(s_settings with { RemoteShare = share }));
}

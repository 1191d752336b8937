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
    public void Select_FewLocalPeers_RemoteStaysAShareOfTheHandout()
    {
        var candidates = new List<PeerRecord>();
        candidates.AddRange(Enumerable.Range(1, 3).Select(n => Agent(n, "a", "r2")));
        candidates.AddRange(Enumerable.Range(21, 20).Select(n => Agent(n, "b", "")));

        var selected = Select(s_settings, candidates, seed: 4);

        // 3 local: remote = ⌈3 · 0.2 / 0.8⌉ = 1, although 7 places are free: more would have the asker pull across zones.
        Assert.Equal(["a", "a", "a", "b"], selected.Select(p => p.Locality.Zone));
    }

    [Fact]
    public void Select_AloneInItsZone_EveryPlaceRemote()
    {
        var candidates = Enumerable.Range(21, 20).Select(n => Agent(n, "b", "")).ToList();

        var selected = Select(s_settings, candidates, seed: 4);

        Assert.Equal(10, selected.Count);
        Assert.All(selected, p => Assert.Equal("b", p.Locality.Zone));
    }

    [Theory]
    [InlineData(10, 8, 20, 0.2, 2)]
    [InlineData(10, 1, 20, 0.2, 1)]
    [InlineData(50, 40, 100, 0.2, 10)]
    [InlineData(50, 4, 100, 0.5, 4)]
    [InlineData(10, 8, 1, 0.2, 1)]
    [InlineData(10, 0, 20, 0.2, 10)]
    [InlineData(10, 5, 20, 1.0, 5)]
    [InlineData(10, 5, 20, 0.0, 0)]
    public void RemoteTake_IsTheShareOfTheHandout(int limit, int localTake, int remoteCount, double share, int expected) =>
        Assert.Equal(expected, new PeerHandoutPolicy(s_settings with { RemoteShare = share }).RemoteTake(limit, localTake, remoteCount));

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

        // The 3 of the asker's zone first; peers that said nothing are remote: one kept, as of any other zone.
        Assert.Equal(4, selected.Count);
        Assert.All(selected.Take(3), p => Assert.Equal("a", p.Locality.Zone));
        Assert.Equal(PeerLocality.Unknown, selected[3].Locality);
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
    public void Select_ManyDraws_EqualLocalPeersPickedAboutEquallyOften()
    {
        // 10 in the asker's zone for 4 local places: each expects 0.4 × draws.
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

        Assert.All(Enumerable.Range(1, 10), n => Assert.InRange(counts[n], 1700, 2300));
    }

    [Fact]
    public void Select_RemotePeers_SameForOneAskerSpreadOverAskers()
    {
        var candidates = Enumerable.Range(1, 10).Select(n => Agent(n, "a", "")).Concat(Enumerable.Range(21, 10).Select(n => Agent(n, "b", ""))).ToList();
        var policy = new PeerHandoutPolicy(s_settings);
        var random = new Random(13);
        var perAsker = new Dictionary<int, HashSet<int>>();

        for (var asker = 100; asker < 400; asker++)
        {
            for (var draw = 0; draw < 5; draw++)
            {
                // Reversed on some draws: the store's order must not matter.
                var order = draw % 2 == 0 ? candidates : Enumerable.Reverse(candidates).ToList();
                var remote = policy.Select(order, TestPeers.Id(asker), s_askerAddress, 1, 5, random, s_asker with { Rack = "" }).Single(p => p.Locality.Zone == "b");
                (perAsker.TryGetValue(asker, out var set) ? set : perAsker[asker] = []).Add(remote.Port - 6000);
            }
        }

        // Each asker always got the same bridge; 300 askers spread over the 10 remote peers (30 each expected).
        Assert.All(perAsker.Values, set => Assert.Single(set));
        var load = perAsker.Values.Select(set => set.Single()).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(10, load.Count);
        Assert.All(load.Values, c => Assert.InRange(c, 10, 55));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Constructor_RemoteShareOutOfRange_Throws(double share) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeerHandoutPolicy(s_settings with { RemoteShare = share }));

    [Fact]
    public void HandsOutOrigin_OtherZoneWithABridgeToTheOriginsZone_No()
    {
        var policy = new PeerHandoutPolicy(s_settings with { OriginZone = "a" });
        var withBridge = new List<PeerRecord> { Agent(1, "b", ""), Agent(2, "a", "") };
        var withoutBridge = new List<PeerRecord> { Agent(1, "b", ""), Agent(3, "c", "") };

        Assert.False(policy.HandsOutOrigin(new PeerLocality("b", ""), withBridge));
        Assert.True(policy.HandsOutOrigin(new PeerLocality("b", ""), withoutBridge));
        Assert.True(policy.HandsOutOrigin(new PeerLocality("b", ""), []));
    }

    [Fact]
    public void HandsOutOrigin_OriginsZoneUnknownOrAskerInIt_Yes()
    {
        var handout = new List<PeerRecord> { Agent(2, "a", "") };

        Assert.True(new PeerHandoutPolicy(s_settings).HandsOutOrigin(new PeerLocality("b", ""), handout));
        Assert.True(new PeerHandoutPolicy(s_settings with { OriginZone = "a" }).HandsOutOrigin(new PeerLocality("a", ""), handout));
        Assert.True(new PeerHandoutPolicy(s_settings with { OriginZone = "a" }).HandsOutOrigin(PeerLocality.Unknown, handout));
        Assert.True(new PeerHandoutPolicy(s_settings with { OriginZone = "a", Locality = false }).HandsOutOrigin(new PeerLocality("b", ""), handout));
    }
}

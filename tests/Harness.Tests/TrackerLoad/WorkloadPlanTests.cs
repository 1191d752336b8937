using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.TrackerLoad;
using P2PRegistry.TrackerLoad.Workload;

namespace P2PRegistry.Harness.Tests.TrackerLoad;

public sealed class WorkloadPlanTests
{
    [Fact]
    public void SwarmSizes_ZipfFromMaxDownToMin()
    {
        Assert.Equal([10_000, 5_000, 3_333, 2_500, 2_000], WorkloadPlan.SwarmSizes(5, 10_000, 10));
        var sizes = WorkloadPlan.SwarmSizes(1000, 10_000, 10);
        Assert.Equal(10, sizes[^1]);
        Assert.True(sizes.Zip(sizes.Skip(1)).All(p => p.First >= p.Second));
        // A few big swarms, many small: 10 with at least 1,000 peers, 901 (from the 100th on) with at most 100.
        Assert.Equal(10, sizes.Count(s => s >= 1000));
        Assert.Equal(901, sizes.Count(s => s <= 100));
    }

    [Fact]
    public void PeerAt_NumbersPeersSwarmBySwarm()
    {
        var plan = new WorkloadPlan(3, 4, 1);
        // Sizes 4, 2, 1.
        Assert.Equal(7, plan.TotalPeers);
        var peers = Enumerable.Range(0, plan.TotalPeers).Select(plan.PeerAt).ToArray();
        Assert.Equal([(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (2, 0)], peers);
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.PeerAt(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.PeerAt(-1));
    }

    [Fact]
    public void PeerAt_FullPlan_EveryPeerOnceAndNodesBelowSwarmSize()
    {
        var plan = new WorkloadPlan(1000, 10_000, 10);
        var seen = new HashSet<(int, int)>();
        for (var i = 0; i < plan.TotalPeers; i++)
        {
            var (swarm, node) = plan.PeerAt(i);
            Assert.InRange(node, 0, plan.Sizes[swarm] - 1);
            Assert.True(seen.Add((swarm, node)));
        }

        Assert.Equal(plan.Sizes.Sum(), seen.Count);
    }

    [Fact]
    public void NodeAddress_DistinctAndNeverLoopback()
    {
        var addresses = Enumerable.Range(0, 70_000).Select(WorkloadPlan.NodeAddress).ToArray();
        Assert.Equal("10.0.0.1", addresses[0]);
        Assert.Equal("10.0.1.0", addresses[255]);
        Assert.Equal(addresses.Length, addresses.Distinct().Count());
        Assert.All(addresses, a => Assert.StartsWith("10.", a));
    }

    [Fact]
    public void NodePeerId_TwentyBytesDistinct()
    {
        var a = WorkloadPlan.NodePeerId(1);
        Assert.Equal(20, a.Length);
        Assert.Equal("-P2LOAD-"u8.ToArray(), a[..8]);
        Assert.NotEqual(a, WorkloadPlan.NodePeerId(2));
    }

    [Fact]
    public void BlobMetaInfo_DecodesAndIsDistinctPerSwarm()
    {
        var one = WorkloadPlan.BlobMetaInfo(1);
        var decoded = MetaInfo.Decode(one.Encoded.ToArray());
        Assert.Equal(one.InfoHash, decoded.InfoHash);
        Assert.Equal(one.Digest, decoded.Digest);
        Assert.NotEqual(one.InfoHash, WorkloadPlan.BlobMetaInfo(2).InfoHash);
        Assert.Equal(one.InfoHash, WorkloadPlan.BlobMetaInfo(1).InfoHash);
    }

    [Fact]
    public void Lifecycle_StartedThenPeriodicThenCompletedThenSeeding()
    {
        byte state = 0;
        var events = new List<(AnnounceEvent, bool)>();
        for (var i = 0; i < 7; i++)
        {
            var (announceEvent, complete, next) = PeerLifecycle.Next(state, downloadingAnnounces: 3);
            events.Add((announceEvent, complete));
            state = next;
        }

        Assert.Equal(
            [(AnnounceEvent.Started, false), (AnnounceEvent.None, false), (AnnounceEvent.None, false), (AnnounceEvent.None, false),
             (AnnounceEvent.Completed, true), (AnnounceEvent.None, true), (AnnounceEvent.None, true)],
            events);
        Assert.Equal(PeerLifecycle.Seeding, state);
    }

    [Fact]
    public void Lifecycle_SeedRestarting_StartsOverAsADownload()
    {
        Assert.Equal((AnnounceEvent.Started, false, (byte)1), PeerLifecycle.Next(PeerLifecycle.Seeding, 3, restart: true));
        // Only a seed pulls again: a download in progress goes on.
        Assert.Equal((AnnounceEvent.None, false, (byte)3), PeerLifecycle.Next(2, 3, restart: true));
    }

    [Fact]
    public void Lifecycle_NoDownloadingAnnounces_CompletesRightAfterStarted()
    {
        var (_, _, next) = PeerLifecycle.Next(0, 0);
        Assert.Equal(AnnounceEvent.Completed, PeerLifecycle.Next(next, 0).Event);
    }

    [Fact]
    public void BytesLeft_FallsWithEachAnnounceToZeroWhenSeeding()
    {
        const long Length = 4000;
        Assert.Equal(Length, PeerLifecycle.BytesLeft(0, 3, Length));
        Assert.Equal(Length, PeerLifecycle.BytesLeft(1, 3, Length));
        Assert.Equal(3000, PeerLifecycle.BytesLeft(2, 3, Length));
        Assert.Equal(1000, PeerLifecycle.BytesLeft(4, 3, Length));
        Assert.Equal(0, PeerLifecycle.BytesLeft(PeerLifecycle.Seeding, 3, Length));
    }

    [Fact]
    public void Arguments_DefaultsAndChecks()
    {
        var parsed = LoadArguments.Parse(["--tracker", "http://127.0.0.1:7001", "--callers", "8", "--pid", "tracker=42", "--pid", "redis=43"]);
        Assert.Equal(8, parsed.Callers);
        Assert.Equal(1000, parsed.Swarms);
        Assert.Equal(10_000, parsed.MaxPeersPerSwarm);
        Assert.Equal([("tracker", 42), ("redis", 43)], parsed.CpuPids);
        Assert.Throws<FormatException>(() => LoadArguments.Parse(["--callers", "8"]));
        Assert.Throws<FormatException>(() => LoadArguments.Parse(["--tracker", "http://127.0.0.1:7001", "--callers", "0"]));
        Assert.Throws<FormatException>(() => LoadArguments.Parse(["--tracker", "http://127.0.0.1:7001", "--max-peers", "5", "--min-peers", "6"]));
        Assert.Throws<FormatException>(() => LoadArguments.Parse(["--tracker", "http://127.0.0.1:7001", "--pid", "tracker"]));
        Assert.Throws<FormatException>(() => LoadArguments.Parse(["--tracker"]));
        Assert.Throws<FormatException>(() => LoadArguments.Parse(["--tracker", "http://127.0.0.1:7001", "--restart-percent", "101"]));
        Assert.Equal(5, parsed.RestartPercent);
    }
}

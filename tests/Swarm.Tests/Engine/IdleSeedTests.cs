using System.Net;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using Xunit.Abstractions;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>Seeds without an open swarm: closed when idle, announced all the same, reopened when a peer asks.</summary>
public sealed class IdleSeedTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CloseIdleSeeds_SeedWithoutTraffic_ClosedStillAnnouncedAndReopenedByAHandshake()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1_000_000, 256 * 1024);
        var path = blob.WriteTo(dir.Path, "cached");
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker);
        var resolved = 0;
        seed.Engine.SeedResolver = infoHash =>
        {
            Interlocked.Increment(ref resolved);
            return infoHash == blob.MetaInfo.InfoHash ? new SeedSource(blob.MetaInfo, path) : null;
        };
        seed.Engine.Seed(blob.MetaInfo, path);
        await WaitUntilAsync(() => tracker.Seeds(blob.MetaInfo.InfoHash) == 1);

        // Not idle yet for a minute; idle for zero: closed.
        Assert.Equal(0, seed.Engine.CloseIdleSeeds(TimeSpan.FromMinutes(1)));
        Assert.Equal(1, seed.Engine.CloseIdleSeeds(TimeSpan.Zero));
        Assert.Null(seed.Engine.GetStatistics(blob.MetaInfo.InfoHash));
        Assert.Equal(0, seed.Engine.OpenSwarmCount);
        Assert.Equal(1, seed.Engine.SeededBlobCount);

        // Still announced as a seed (several times: the seed interval is 0.5 s here), never "stopped".
        var announced = tracker.AnnounceCount;
        await WaitUntilAsync(() => tracker.AnnounceCount >= announced + 3);
        Assert.Equal(0, tracker.Stopped(blob.MetaInfo.InfoHash));
        Assert.Equal(1, tracker.Seeds(blob.MetaInfo.InfoHash));
        Assert.Equal(0, Volatile.Read(ref resolved));

        // A leecher finds it through the tracker and handshakes: the swarm reopens and serves the blob.
        await using var leecher = await TestNode.StartAsync(tracker);
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.True(Volatile.Read(ref resolved) >= 1);
        Assert.Equal(blob.MetaInfo.Length, seed.Engine.GetStatistics(blob.MetaInfo.InfoHash)!.BytesUploaded);
        Assert.Equal(1, seed.Engine.OpenSwarmCount);

        // Traffic moved since the last look: not idle, whatever the timeout.
        Assert.Equal(0, seed.Engine.CloseIdleSeeds(TimeSpan.Zero));
        Assert.Equal(1, seed.Engine.CloseIdleSeeds(TimeSpan.Zero));
    }

    [Fact]
    public async Task CloseIdleSeeds_NoResolver_KeepsTheSwarmOpen()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        await using var seed = await TestNode.StartAsync(new FakeTracker());
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "b"));

        Assert.Equal(0, seed.Engine.CloseIdleSeeds(TimeSpan.Zero));
        Assert.NotNull(seed.Engine.GetStatistics(blob.MetaInfo.InfoHash));
    }

    [Fact]
    public async Task SeedOnDemand_ManyBlobs_AllAnnouncedNoneOpened_StopForgetsOne()
    {
        var tracker = new FakeTracker();
        await using var node = await TestNode.StartAsync(tracker);
        var blobs = Enumerable.Range(0, 200).Select(i => TestBlob.Create(1000 + i, 16 * 1024, seed: i)).ToList();
        node.Engine.SeedResolver = _ => null;

        node.Engine.SeedOnDemand(blobs.Select(b => (b.MetaInfo.InfoHash, b.Digest)));

        await WaitUntilAsync(() => blobs.All(b => tracker.Seeds(b.MetaInfo.InfoHash) == 1));
        Assert.Equal(0, node.Engine.OpenSwarmCount);
        Assert.Equal(200, node.Engine.SeededBlobCount);
        Assert.All(tracker.Events.Take(200), e => Assert.Equal(P2PRegistry.Swarm.Tracking.AnnounceEvent.Started, e));

        await node.Engine.StopAsync(blobs[0].MetaInfo.InfoHash);
        Assert.Equal(1, tracker.Stopped(blobs[0].MetaInfo.InfoHash));
        Assert.Equal(0, tracker.Seeds(blobs[0].MetaInfo.InfoHash));
        Assert.Equal(199, node.Engine.SeededBlobCount);
    }

    [Fact]
    public async Task SeedOnDemand_TenThousandBlobs_AFewHundredBytesEachNoFileNoTask()
    {
        // A tracker that hangs: announces stay in flight, at most 32 of them (the engine's bound for seeds).
        var tracker = new FakeTracker { Fault = ct => Task.Delay(System.Threading.Timeout.Infinite, ct) };
        await using var node = await TestNode.StartAsync(tracker, o => o.TrackerTimeout = TimeSpan.FromSeconds(5));
        var resolved = 0;
        node.Engine.SeedResolver = _ =>
        {
            Interlocked.Increment(ref resolved);
            return null;
        };
        var blobs = Enumerable.Range(0, 10_000).Select(i =>
        {
            var bytes = new byte[20];
            BitConverter.TryWriteBytes(bytes, i);
            return (new InfoHash(bytes), Core.Content.Digest.Compute(bytes));
        }).ToList();

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        node.Engine.SeedOnDemand(blobs);
        var perBlob = (GC.GetAllocatedBytesForCurrentThread() - allocated) / blobs.Count;

        output.WriteLine($"{perBlob} bytes allocated per blob seeded without opening it");
        Assert.True(perBlob < 1024, $"{perBlob} bytes allocated per blob seeded");
        Assert.Equal(10_000, node.Engine.SeededBlobCount);
        Assert.Equal(0, node.Engine.OpenSwarmCount);
        Assert.Equal(0, Volatile.Read(ref resolved));

        // The first announces go out spread (20 ms apart on average), and no more than 32 hang at once.
        await WaitUntilAsync(() => tracker.AnnounceCount >= 32);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(32, tracker.AnnounceCount);
    }

    [Fact]
    public async Task Announce_TrackerDown_SeedsBackOffThenAllReannounceSoonAfterItReturns()
    {
        var tracker = new FakeTracker();
        var down = 1;
        tracker.Fault = _ => Volatile.Read(ref down) == 1 ? throw new InvalidOperationException("tracker down") : Task.CompletedTask;

        // Seeds announce every 0.5 s when all is well; back-off up to 4 s.
        await using var node = await TestNode.StartAsync(tracker, o => o.AnnounceBackoffCap = TimeSpan.FromSeconds(4));
        var blobs = Enumerable.Range(0, 50).Select(i => TestBlob.Create(1000 + i, 16 * 1024, seed: i)).ToList();
        node.Engine.SeedResolver = _ => null;
        node.Engine.SeedOnDemand(blobs.Select(b => (b.MetaInfo.InfoHash, b.Digest)));

        var start = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(10));
        var attempts = tracker.AnnounceCount;
        var elapsed = DateTime.UtcNow - start;

        // Without back-off: one per blob per 0.5 s, 1000 in 10 s. With it (mean delays 0.5, 1, 2, 2 … s): about 6 per blob.
        var perBlobPerSecond = attempts / 50.0 / elapsed.TotalSeconds;
        Assert.True(perBlobPerSecond < 1.0, $"{attempts} announces of 50 blobs in {elapsed.TotalSeconds:F1} s");
        Assert.True(attempts >= 100, $"only {attempts} announces: the seeds stopped trying");

        Volatile.Write(ref down, 0);
        var back = DateTime.UtcNow;
        await WaitUntilAsync(() => blobs.All(b => tracker.Seeds(b.MetaInfo.InfoHash) == 1));
        var recovered = DateTime.UtcNow - back;

        // The first announce due (within a second, most blobs are backing off at random) finds it back, and the rest follow
        // within 50 × 20 ms, well before the 4 s cap.
        Assert.True(recovered < TimeSpan.FromSeconds(4), $"all listed again after {recovered.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Announce_TrackerDown_DownloadStillAnnouncesWithinItsCap()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        var tracker = new FakeTracker();
        var failures = 0;
        tracker.Fault = _ => { Interlocked.Increment(ref failures); throw new InvalidOperationException("tracker down"); };
        await using var node = await TestNode.StartAsync(tracker, o => o.DownloadAnnounceBackoffCap = TimeSpan.FromSeconds(1));
        _ = await node.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("d"));

        // Interval 0.2 s, cap 1 s: over 5 s at least one attempt per second (ceiling 0.4, 0.8, then 1 s), and not a busy loop.
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.InRange(Volatile.Read(ref failures), 5, 40);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }
}

using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm.Announcing;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;
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
        await Eventually.AssertAsync(() => tracker.Seeds(blob.MetaInfo.InfoHash) == 1);

        // Not idle yet for a minute; idle for zero: closed.
        Assert.Equal(0, seed.Engine.CloseIdleSeeds(TimeSpan.FromMinutes(1)));
        Assert.Equal(1, seed.Engine.CloseIdleSeeds(TimeSpan.Zero));
        Assert.Null(seed.Engine.GetStatistics(blob.MetaInfo.InfoHash));
        Assert.Equal(0, seed.Engine.OpenSwarmCount);
        Assert.Equal(1, seed.Engine.SeededBlobCount);

        // Still announced as a seed (several times: the seed interval is 0.5 s here), never "stopped".
        var announced = tracker.AnnounceCount;
        await Eventually.AssertAsync(() => tracker.AnnounceCount >= announced + 3);
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

        await Eventually.AssertAsync(() => blobs.All(b => tracker.Seeds(b.MetaInfo.InfoHash) == 1));
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
        // A tracker that hangs: announces stay in flight until the tracker timeout, at most 32 of them (the engine's bound for seeds).
        // The timeout is longer than the spread window, so the first 32 cannot time out while the clock is moved across
        // the window (the fake clock fires timers in order, and an announce may start before the move has finished).
        var time = new FakeTimeProvider();
        var tracker = new FakeTracker { Clock = time, Fault = ct => Task.Delay(System.Threading.Timeout.Infinite, ct) };
        var trackerTimeout = SwarmTestContext.FastOptions().AnnounceSpread * 2;
        await using var node = await TestNode.StartAsync(tracker, o => o.TrackerTimeout = trackerTimeout, time: time);
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

        // Past the whole spread window every blob is due, yet no more than 32 announces go out, however long one waits.
        time.Advance(SwarmTestContext.FastOptions().AnnounceSpread);
        await Eventually.AssertAsync(() => node.Engine.AnnouncesPendingWhileParked is > 0 and var pending && pending == tracker.InFlight);
        Assert.Equal(SwarmEngine.MaxSeedAnnouncesInFlight, tracker.AnnounceCount);
        Assert.Equal(SwarmEngine.MaxSeedAnnouncesInFlight, tracker.PeakInFlight);

        // At the tracker timeout they give up and free their slots for the next 32.
        time.Advance(trackerTimeout);
        await Eventually.AssertAsync(() => tracker.AnnounceCount >= 2 * SwarmEngine.MaxSeedAnnouncesInFlight
            && node.Engine.AnnouncesPendingWhileParked is { } pending && pending == tracker.InFlight);
        Assert.Equal(2 * SwarmEngine.MaxSeedAnnouncesInFlight, tracker.AnnounceCount);
        Assert.Equal(SwarmEngine.MaxSeedAnnouncesInFlight, tracker.InFlight);
    }

    [Fact]
    public async Task Announce_TrackerDown_SeedsBackOffThenAllReannounceSoonAfterItReturns()
    {
        var time = new FakeTimeProvider();
        var tracker = new FakeTracker { Clock = time };
        var down = 1;
        tracker.Fault = _ => Volatile.Read(ref down) == 1 ? throw new InvalidOperationException("tracker down") : Task.CompletedTask;

        // Seeds announce every 0.5 s when all is well; back-off up to 4 s.
        static void Configure(SwarmOptions o) => o.AnnounceBackoffCap = TimeSpan.FromSeconds(4);
        var policy = AnnouncePolicy.From(SwarmTestContext.FastOptions(Configure));
        await using var node = await TestNode.StartAsync(tracker, Configure, time: time);
        var blobs = Enumerable.Range(0, 50).Select(i => TestBlob.Create(1000 + i, 16 * 1024, seed: i)).ToList();
        node.Engine.SeedResolver = _ => null;
        var start = time.GetUtcNow();
        node.Engine.SeedOnDemand(blobs.Select(b => (b.MetaInfo.InfoHash, b.Digest)));

        // 20 s of the engine's time, in steps: each attempt lands on the first step at or after it is due.
        await RunAsync(node, time, TimeSpan.FromSeconds(20), () => false);

        var gaps = new List<TimeSpan>();
        foreach (var blob in blobs)
        {
            var times = tracker.Times(blob.MetaInfo.InfoHash);
            Assert.True(times.Count >= 2, $"{times.Count} announces of a blob in 20 s: it stopped trying");

            // The first within the spread of 50 announces (20 ms each), then after k failures a delay in [0.5 s, ceiling(k)].
            Assert.InRange(times[0] - start, TimeSpan.Zero, policy.SpreadWindow(50, downloading: false) + Step);
            for (var k = 1; k < times.Count; k++)
            {
                var gap = times[k] - times[k - 1];
                Assert.InRange(gap, TimeSpan.FromMilliseconds(500), policy.Ceiling(downloading: false, k) + Step);
                if (k >= 3)
                {
                    gaps.Add(gap);
                }
            }
        }

        // From the third failure on the ceiling is 4 s (mean 2 s); without back-off seeds would retry every 0.5 s.
        var mean = TimeSpan.FromTicks((long)gaps.Average(g => g.Ticks));
        output.WriteLine($"{tracker.AnnounceCount} announces of 50 blobs in 20 s; mean gap from the third failure {mean.TotalSeconds:F2} s");
        Assert.True(mean > TimeSpan.FromSeconds(1), $"mean gap {mean.TotalSeconds:F2} s after three failures");

        // The tracker returns: the first announce due finds it (within the cap), and the rest follow within the spread of
        // 50 announces (1 s), not each at its own back-off, up to 4 s later.
        Volatile.Write(ref down, 0);
        var back = time.GetUtcNow();
        await RunAsync(node, time, TimeSpan.FromSeconds(10), () => blobs.All(b => tracker.Seeds(b.MetaInfo.InfoHash) == 1));
        Assert.All(blobs, b => Assert.Equal(1, tracker.Seeds(b.MetaInfo.InfoHash)));
        var firstBack = blobs.Select(b => tracker.Times(b.MetaInfo.InfoHash).First(t => t > back)).ToList();
        output.WriteLine($"first success {(firstBack.Min() - back).TotalSeconds:F2} s after the tracker returned, all within {(firstBack.Max() - firstBack.Min()).TotalSeconds:F2} s");
        Assert.InRange(firstBack.Min() - back, TimeSpan.Zero, TimeSpan.FromSeconds(4) + Step);
        Assert.InRange(firstBack.Max() - firstBack.Min(), TimeSpan.Zero, policy.SpreadWindow(50, downloading: false) + Step);
    }

    [Fact]
    public async Task Announce_TrackerDown_DownloadStillAnnouncesWithinItsCap()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        var time = new FakeTimeProvider();
        var tracker = new FakeTracker { Clock = time, Fault = _ => throw new InvalidOperationException("tracker down") };
        static void Configure(SwarmOptions o) => o.DownloadAnnounceBackoffCap = TimeSpan.FromSeconds(1);
        var policy = AnnouncePolicy.From(SwarmTestContext.FastOptions(Configure));
        await using var node = await TestNode.StartAsync(tracker, Configure, time: time);
        var start = time.GetUtcNow();
        _ = await node.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("d"));

        await RunAsync(node, time, TimeSpan.FromSeconds(5), () => false);

        // Interval 0.2 s, cap 1 s: at once, then after k failures a delay in [0.2 s, ceiling(k)] (0.4, 0.8, then 1 s): at
        // least one attempt a second, never a busy loop.
        var times = tracker.Times(blob.MetaInfo.InfoHash);
        output.WriteLine($"{times.Count} announces in 5 s");
        Assert.InRange(times[0] - start, TimeSpan.Zero, Step);
        Assert.InRange(times.Count, 5, 26);
        for (var k = 1; k < times.Count; k++)
        {
            Assert.InRange(times[k] - times[k - 1], TimeSpan.FromMilliseconds(200), policy.Ceiling(downloading: true, k) + Step);
        }
    }

    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);

    /// <summary>Advances the engine's clock by <see cref="Step"/> at a time, each once its announces settled, for <paramref name="duration"/> or until <paramref name="done"/>.</summary>
    private static async Task RunAsync(TestNode node, FakeTimeProvider time, TimeSpan duration, Func<bool> done)
    {
        var end = time.GetUtcNow() + duration;
        await SettledAsync(node);
        while (time.GetUtcNow() < end && !done())
        {
            time.Advance(Step);
            await SettledAsync(node);
        }
    }

    private static async Task SettledAsync(TestNode node)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!node.Engine.AnnouncesSettled)
        {
            Assert.True(deadline.Elapsed < Timeout, "the announce loop did not settle");
            await Task.Delay(1);
        }
    }
}

using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Core.Content;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Agent.Tests.Cache;

/// <summary>
/// The collector inside a started agent, in capacity mode (<c>Agent:CacheCapacityBytes</c>: the agent's own bytes
/// against it), over a data folder laid out as a previous run left it, with last uses persisted as modification times.
/// </summary>
public sealed class DiskCollectorTests : IDisposable
{
    private const int BlobBytes = 64 * 1024;
    private readonly TempDirectory _dir = new("agent-gc");
    private readonly FakeTracker _tracker = new();

    public void Dispose() => _dir.Dispose();

    private static void SetAge(string path, TimeSpan age) => File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);

    private (string Content, string Type) InstallManifest(string data, byte fill, TimeSpan age)
    {
        var content = Enumerable.Repeat(fill, 300).ToArray();
        var digest = Digest.Compute(content);
        var folder = Directory.CreateDirectory(Path.Combine(data, "manifests", "sha256")).FullName;
        var path = Path.Combine(folder, digest.Hex);
        File.WriteAllBytes(path, content);
        File.WriteAllText(path + ".type", "application/vnd.oci.image.manifest.v1+json");
        SetAge(path, age);
        SetAge(path + ".type", age);
        return (path, path + ".type");
    }

    [Fact]
    public async Task Run_OverCapacity_EvictsLeastRecentlyUsedDownToLowThreshold_AndStopsTheirSwarms()
    {
        var data = _dir.Combine("agent");
        var blobs = Enumerable.Range(0, 10).Select(i => TestBlob.Create(BlobBytes, 16 * 1024, seed: i)).ToList();
        for (var i = 0; i < blobs.Count; i++)
        {
            blobs[i].InstallInto(data);

            // Blob 0 was used longest ago, blob 9 most recently (all long enough ago to be past the minimum age).
            SetAge(Path.Combine(data, "cache", "sha256", blobs[i].Digest.Hex), TimeSpan.FromHours(20 - i));
        }

        var oldManifest = InstallManifest(data, 1, TimeSpan.FromDays(2));
        var recentManifest = InstallManifest(data, 2, TimeSpan.FromMinutes(30));

        // 10 × 64 KiB of blobs plus MetaInfo and manifests against 600 KiB: above 85 % (510 KiB), down to below 80 % (480 KiB).
        const long capacity = 600 * 1024;
        await using var agent = await TestAgent.StartAsync(data, new FakeMetaInfoSource(), _tracker, settings:
        [
            $"--Agent:CacheCapacityBytes={capacity}",
            "--Agent:Gc:Interval=1.00:00:00",
            "--Agent:VerifyCacheInBackground=false",
            "--Swarm:AnnounceSpread=00:00:01",
        ]);

        // A blob the tracker never heard of gets no "stopped" when it goes (by design): every blob is announced first
        // (its first announce is spread over Swarm:AnnounceSpread after the start, here a second).
        await Eventually.AssertAsync(() => blobs.All(b => _tracker.Seeds(b.MetaInfo.InfoHash) == 1), "every cached blob announced as a seed", TimeSpan.FromSeconds(60));

        // The first periodic run is a day away: this one is the test's.
        var collector = agent.Services.GetRequiredService<DiskCollector>();
        var first = await collector.RunOnceAsync();
        Assert.True(first.BytesToFree > 0);
        Assert.True(first.UsedBefore > capacity * 85 / 100);
        Assert.True(first.Freed >= first.BytesToFree);
        var again = await collector.RunOnceAsync();

        Assert.Empty(again.Removed);
        Assert.Equal(first.UsedAfter, again.UsedBefore);
        Assert.True(again.UsedBefore <= capacity * 80 / 100, $"agent usage {again.UsedBefore} bytes is not below the low threshold");
        Assert.False(File.Exists(oldManifest.Content) || File.Exists(oldManifest.Type), "the least recently used manifest stayed");
        Assert.True(File.Exists(recentManifest.Content), "a recently used manifest went before older blobs");
        var kept = blobs.Where(b => agent.Cache.Contains(b.Digest)).ToList();
        var evicted = blobs.Where(b => !agent.Cache.Contains(b.Digest)).ToList();
        Assert.NotEmpty(evicted);
        Assert.Equal(blobs.Take(evicted.Count).Select(b => b.Digest), evicted.Select(b => b.Digest));
        foreach (var blob in evicted)
        {
            Assert.False(File.Exists(Path.Combine(data, "cache", "sha256", blob.Digest.Hex)));
            Assert.False(File.Exists(Path.Combine(data, "metainfo", blob.Digest.Hex)), "an evicted blob's MetaInfo stayed");
            Assert.Null(agent.Engine.GetStatistics(blob.MetaInfo.InfoHash));
            // The swarm's "stopped" announce goes out on the announce schedule, after the eviction returns.
            await Eventually.AssertAsync(() => _tracker.Stopped(blob.MetaInfo.InfoHash) >= 1, "the evicted blob's swarm announced stopped", TimeSpan.FromSeconds(60));
        }

        // Kept blobs stay seeded (their swarms open on demand, SeedOnDemand): never announced stopped.
        Assert.All(kept, b => Assert.Equal(0, _tracker.Stopped(b.MetaInfo.InfoHash)));
        Assert.True(agent.Logs.Contains(100, $"{evicted.Count} blobs"));
        var metrics = await agent.Client.GetStringAsync("/metrics");
        Assert.Contains($"p2pregistry_agent_gc_blobs_evicted_total {evicted.Count}", metrics, StringComparison.Ordinal);
        Assert.Contains("p2pregistry_agent_gc_runs_total", metrics, StringComparison.Ordinal);
        Assert.Contains("p2pregistry_agent_gc_bytes_used_bytes", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_BlobBeingRead_IsSpared_EvenWhenLeastRecentlyUsed()
    {
        var data = _dir.Combine("agent");
        var blobs = Enumerable.Range(0, 4).Select(i => TestBlob.Create(BlobBytes, 16 * 1024, seed: 40 + i)).ToList();
        for (var i = 0; i < blobs.Count; i++)
        {
            blobs[i].InstallInto(data);
            SetAge(Path.Combine(data, "cache", "sha256", blobs[i].Digest.Hex), TimeSpan.FromHours(10 - i));
        }

        // 256 KiB of blobs against 400 KiB: below the high threshold (340 KiB) at start.
        await using var agent = await TestAgent.StartAsync(data, new FakeMetaInfoSource(), _tracker, settings:
        [
            "--Agent:CacheCapacityBytes=409600",
            "--Agent:Gc:Interval=1.00:00:00",
            "--Agent:VerifyCacheInBackground=false",
        ]);
        var collector = agent.Services.GetRequiredService<DiskCollector>();
        Assert.Empty((await collector.RunOnceAsync()).Removed);

        // The least recently used blob is being read when something else the agent wrote takes usage above the threshold.
        using var lease = agent.Cache.TryAcquire(blobs[0].Digest);
        File.WriteAllBytes(Path.Combine(data, "stray"), new byte[100 * 1024]);
        var run = await collector.RunOnceAsync();

        Assert.True(agent.Cache.Contains(blobs[0].Digest), "the blob being read was evicted");
        Assert.True(File.Exists(lease!.Path));
        Assert.Equal([blobs[1].Digest], run.Removed.Select(r => r.Digest));
        Assert.True(run.UsedAfter <= 409600 * 80 / 100);
    }

    [Fact]
    public async Task Run_BlobSeededToAPeerSinceThePreviousRun_CountsAsUsedNow_AndIsSpared()
    {
        // The seed holds two blobs: the older one is then downloaded by a peer from it (no HTTP read on the seed).
        var seeded = TestBlob.Create(256 * 1024, 16 * 1024, seed: 60);
        var idle = TestBlob.Create(256 * 1024, 16 * 1024, seed: 61);
        var data = _dir.Combine("seed");
        seeded.InstallInto(data);
        idle.InstallInto(data);
        SetAge(Path.Combine(data, "cache", "sha256", seeded.Digest.Hex), TimeSpan.FromHours(5));
        SetAge(Path.Combine(data, "cache", "sha256", idle.Digest.Hex), TimeSpan.FromHours(1));
        var metaInfos = new FakeMetaInfoSource();
        metaInfos.Add(seeded.MetaInfo);

        // 512 KiB of blobs against 700 KiB: below 85 % (595 KiB) until something else adds 100 KiB.
        await using var seed = await TestAgent.StartAsync(data, metaInfos, _tracker, settings:
        [
            "--Agent:CacheCapacityBytes=716800",
            "--Agent:Gc:Interval=1.00:00:00",
            "--Agent:VerifyCacheInBackground=false",
        ]);
        var collector = seed.Services.GetRequiredService<DiskCollector>();
        Assert.Empty((await collector.RunOnceAsync()).Removed);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (_tracker.Seeds(seeded.MetaInfo.InfoHash) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the seed never announced");
            await Task.Delay(50);
        }

        await using (var peer = await TestAgent.StartAsync(_dir.Combine("peer"), metaInfos, _tracker, settings: "--Agent:MissTimeout=00:00:10"))
        {
            Assert.Equal(seeded.Content, await peer.Client.GetByteArrayAsync($"/v2/test/img/blobs/{seeded.Digest}"));
        }

        Assert.True(seed.Engine.GetStatistics(seeded.MetaInfo.InfoHash)!.BytesUploaded > 0, "the peer took nothing from the seed");
        File.WriteAllBytes(Path.Combine(data, "stray"), new byte[100 * 1024]);
        var run = await collector.RunOnceAsync();

        Assert.Equal([idle.Digest], run.Removed.Where(r => r.Kind == GcItemKind.Blob).Select(r => r.Digest));
        Assert.True(seed.Cache.Contains(seeded.Digest));
        Assert.True(seed.Cache.Snapshot().Single().LastUsed > DateTimeOffset.UtcNow - TimeSpan.FromMinutes(5), "seeding did not count as a use");
    }

    [Fact]
    public async Task Run_AbandonedPartialDownload_ExpiresWhileRunning_RecentOneStays()
    {
        var data = _dir.Combine("agent");
        await using var agent = await TestAgent.StartAsync(data, new FakeMetaInfoSource(), _tracker, settings:
        [
            "--Agent:PartialDownloadRetention=01:00:00",
            "--Agent:Gc:Interval=1.00:00:00",
        ]);
        var download = Path.Combine(data, "download");
        var abandoned = Path.Combine(download, new string('a', 64));
        var recent = Path.Combine(download, new string('b', 64));
        foreach (var path in new[] { abandoned, abandoned + ".pieces", recent, recent + ".pieces" })
        {
            File.WriteAllBytes(path, new byte[4096]);
        }

        SetAge(abandoned, TimeSpan.FromHours(2));
        SetAge(abandoned + ".pieces", TimeSpan.FromHours(2));
        SetAge(recent, TimeSpan.FromMinutes(10));

        var run = await agent.Services.GetRequiredService<DiskCollector>().RunOnceAsync();

        Assert.False(File.Exists(abandoned) || File.Exists(abandoned + ".pieces"), "an abandoned partial download stayed");
        Assert.True(File.Exists(recent) && File.Exists(recent + ".pieces"), "a recent partial download was removed");
        Assert.Equal(1, run.Expired);
        Assert.Equal(8192, run.Freed);
        Assert.True(agent.Logs.Contains(100, "1 abandoned"));
    }
}

using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Origin.Collection;

namespace P2PRegistry.Origin.Tests.Collection;

/// <summary>The collector inside an in-process origin: its settings checked at start, a pass on demand, its metrics.</summary>
public sealed class GarbageCollectorServiceTests
{
    [Theory]
    [InlineData("--Origin:Gc:Interval=00:00:00", "Origin:Gc:Interval", "00:00:00")]
    [InlineData("--Origin:Gc:Interval=8.00:00:00", "Origin:Gc:Interval", "8.00:00:00")]
    [InlineData("--Origin:Gc:GracePeriod=-00:00:01", "Origin:Gc:GracePeriod", "-00:00:01")]
    [InlineData("--Origin:Gc:GracePeriod=00:00:00", "Origin:Gc:DryRun", "00:00:00")]
    [InlineData("--Origin:PullThroughCacheBytes=-1", "Origin:PullThroughCacheBytes", "-1")]
    public async Task BadGcSetting_FailsStart_NamingKeyAndValue(string setting, string key, string value)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => OriginServer.StartAsync([setting]));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.Contains(value, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_OnDemand_RemovesWhatADeleteLeftUnreferenced_AndCountsIt()
    {
        // Fake time: the grace period passes when the test says so (file times are real, and lie behind the fake clock's start).
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1));
        await using var origin = await OriginServer.StartAsync(["--Origin:Gc:Interval=1.00:00:00", "--Origin:Gc:GracePeriod=00:01:00"], configureServices: s => s.AddSingleton<TimeProvider>(time));
        var (kept, _) = await origin.PushImageAsync("gc/kept", "v1", seed: 1);
        var (deleted, _) = await origin.PushImageAsync("gc/deleted", "v1", seed: 2);
        using (var delete = await origin.Client.DeleteAsync($"/v2/gc/deleted/manifests/{deleted.Value}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        var service = origin.Services.GetRequiredService<GarbageCollectorService>();
        using var runs = new CounterProbe(origin, "p2pregistry.origin.gc.runs");
        using var removedBytes = new CounterProbe(origin, "p2pregistry.origin.gc.bytes_removed");

        // Within the grace period nothing goes; a dry run past it lists what the real run then removes.
        var young = await service.RunAsync(dryRun: false, CancellationToken.None);
        Assert.Empty(young.Removed);
        Assert.Equal(3, young.Deferred);
        time.Advance(TimeSpan.FromMinutes(2));
        var dry = await service.RunAsync(dryRun: true, CancellationToken.None);
        var real = await service.RunAsync(dryRun: false, CancellationToken.None);

        Assert.Equal(3, real.Removed.Count);
        Assert.Equal(dry.Removed, real.Removed);
        Assert.Contains(real.Removed, r => r.Digest == deleted);
        Assert.False(File.Exists(origin.BlobDataPath(deleted)));
        Assert.True(File.Exists(origin.BlobDataPath(kept)));
        Assert.Equal(3, runs.Total);
        Assert.Equal(real.RemovedBytes, removedBytes.Total);
        using var get = await origin.Client.GetAsync("/v2/gc/kept/manifests/v1");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
    }

    [Fact]
    public async Task RunAsync_RemovesABlobStoredHere_TheSeedIndexNoLongerTrustsItsPath()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1));
        await using var origin = await OriginServer.StartAsync(["--Origin:Gc:Interval=1.00:00:00", "--Origin:Gc:GracePeriod=00:01:00"], configureServices: s => s.AddSingleton<TimeProvider>(time));
        var (deleted, _) = await origin.PushImageAsync("gc/untrusted", "v1", seed: 3);
        using (var delete = await origin.Client.DeleteAsync($"/v2/gc/untrusted/manifests/{deleted.Value}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        var seeds = origin.Services.GetRequiredService<P2PRegistry.Origin.Seeding.SeedIndex>();
        Assert.True(seeds.StoredHere(deleted));
        time.Advance(TimeSpan.FromMinutes(2));
        var report = await origin.Services.GetRequiredService<GarbageCollectorService>().RunAsync(dryRun: false, CancellationToken.None);

        // Removed, then the same bytes put back by a path that verified nothing (a restore, a copy by hand): not trusted.
        Assert.Contains(report.Removed, r => r.Digest == deleted);
        Assert.False(seeds.StoredHere(deleted));
    }

    [Fact]
    public async Task GcDisabled_PushesAndMounts_LeaveNoReleaseRemembered()
    {
        await using var origin = await OriginServer.StartAsync(["--Origin:Gc:Enabled=false"]);
        var gate = origin.Services.GetRequiredService<CollectionGate>();
        for (var seed = 1; seed <= 3; seed++)
        {
            await origin.PushImageAsync($"gc/off{seed}", "v1", seed: seed);
        }

        var layer = await origin.PushBlobAsync("gc/off1", OriginServer.RandomBytes(500, 77));
        using (var mount = await origin.Client.PostAsync($"/v2/gc/mounted/blobs/uploads/?mount={layer.Value}&from=gc/off1", null))
        {
            Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        }

        Assert.Equal(0, gate.ReleasedCount);
    }
}

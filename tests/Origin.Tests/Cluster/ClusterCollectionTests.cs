using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Cluster;
using P2PRegistry.Origin.Collection;
using P2PRegistry.Testing.Networking;

namespace P2PRegistry.Origin.Tests.Cluster;

/// <summary>
/// Three in-process origins (R = 2) whose collectors race a manifest PUT or a mount through the member that does not
/// hold the blob: each owner's pass is paused right after its inventory (blob old and unreferenced), the write goes
/// through, then the passes finish. The blob must survive where the write relied on it.
/// </summary>
public sealed class ClusterCollectionTests : IAsyncLifetime
{
    private const string Secret = "cluster-secret-for-gc-tests-01";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _secretFile = Path.Combine(Path.GetTempPath(), $"p2preg-cluster-gc-{Guid.NewGuid():N}");
    private readonly string[] _urls = [.. Enumerable.Range(0, 3).Select(_ => $"http://127.0.0.1:{FreePort.Next()}")];
    private readonly OriginServer?[] _origins = new OriginServer?[3];
    // File times are real and lie behind the fake clock's start; advancing it ages every stored blob past the grace period.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1));
    private ClusterMembers _placement = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_secretFile, Secret + "\n");
        _placement = new ClusterMembers(_urls, _urls[0], 2, new FakeTimeProvider(), TimeSpan.Zero);
        for (var i = 0; i < _origins.Length; i++)
        {
            var args = new List<string> { "--urls", _urls[i], $"--Origin:Cluster:Self={_urls[i]}", $"--Origin:Cluster:SecretFile={_secretFile}",
                "--Origin:Cluster:AllowInsecureSecret=true", "--Origin:Cluster:RequestTimeout=00:00:30", "--Origin:Cluster:DownTime=00:00:00",
                "--Origin:Cluster:RepairInterval=01:00:00", "--Origin:Gc:Interval=1.00:00:00", "--Origin:Gc:GracePeriod=00:01:00" };
            args.AddRange(_urls.Select((url, n) => $"--Origin:Cluster:Members:{n}={url}"));
            _origins[i] = await OriginServer.StartAsync([.. args], configureServices: s => s.AddSingleton<TimeProvider>(_time));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var origin in _origins)
        {
            if (origin is not null)
            {
                await origin.DisposeAsync();
            }
        }

        File.Delete(_secretFile);
    }

    private OriginServer Origin(int i) => _origins[i]!;

    /// <summary>A blob pushed to the member that is not one of its owners: it copies it to both owners and keeps only the link.</summary>
    private async Task<(Digest Digest, byte[] Content, int Via, int[] Owners)> PushThroughNonOwnerAsync(string repository, int seed)
    {
        var content = OriginServer.RandomBytes(6000, seed);
        var digest = Digest.Compute(content);
        var owners = _placement.Owners(digest);
        var via = Enumerable.Range(0, 3).Single(i => !owners.Contains(i));
        Assert.Equal(digest, await Origin(via).PushBlobAsync(repository, content));
        Assert.False(File.Exists(Origin(via).BlobDataPath(digest)));
        Assert.All(owners, o => Assert.True(File.Exists(Origin(o).BlobDataPath(digest))));
        return (digest, content, via, owners);
    }

    /// <summary>Starts a pass on each member in <paramref name="members"/> and returns once each has read its inventory and waits.</summary>
    private async Task<(Task<GcReport>[] Passes, ManualResetEventSlim Resume)> PausePassesAfterInventoryAsync(int[] members)
    {
        var resume = new ManualResetEventSlim(false);
        var passes = new List<Task<GcReport>>();
        foreach (var member in members)
        {
            var collector = Origin(member).Services.GetRequiredService<GarbageCollectorService>();
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            collector.Collector.InventoryTaken += () =>
            {
                reached.TrySetResult();
                Assert.True(resume.Wait(Bound), "the test never resumed the pass");
            };
            passes.Add(collector.RunAsync(dryRun: false, CancellationToken.None));
            await reached.Task.WaitAsync(Bound);
        }

        return ([.. passes], resume);
    }

    [Fact]
    public async Task ManifestPut_ViaMemberWithoutTheBlob_WhileOwnersCollectorsHoldAnOldInventory_BlobSurvivesOnBothOwners()
    {
        var (digest, content, via, owners) = await PushThroughNonOwnerAsync("team/gc", seed: 1);
        _time.Advance(TimeSpan.FromMinutes(5));

        var (passes, resume) = await PausePassesAfterInventoryAsync(owners);
        using (resume)
        {
            var (manifest, _) = await Origin(via).PushManifestAsync("team/gc", "v1", OriginServer.ImageManifest(digest, content.Length, digest, content.Length));
            resume.Set();
            var reports = await Task.WhenAll(passes).WaitAsync(Bound);
            Assert.All(reports, r => Assert.DoesNotContain(r.Removed, x => x.Digest == digest));
            Assert.All(owners, o => Assert.True(File.Exists(Origin(o).BlobDataPath(digest)), $"owner {o} removed a blob a manifest it holds names"));
            Assert.All(owners, o => Assert.True(File.Exists(Origin(o).BlobDataPath(manifest))));
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(content, await Origin(i).Client.GetByteArrayAsync($"/v2/team/gc/blobs/{digest.Value}"));
        }
    }

    [Fact]
    public async Task Mount_ViaMemberWithoutTheBlob_WhileOwnersCollectorsHoldAnOldInventory_BlobStaysOnTheOwnerThatConfirmedIt()
    {
        var (digest, content, via, owners) = await PushThroughNonOwnerAsync("team/source", seed: 2);
        _time.Advance(TimeSpan.FromMinutes(5));

        var (passes, resume) = await PausePassesAfterInventoryAsync(owners);
        using (resume)
        {
            using (var mount = await Origin(via).Client.PostAsync($"/v2/team/mounted/blobs/uploads/?mount={digest.Value}&from=team/source", null))
            {
                Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
            }

            resume.Set();
            await Task.WhenAll(passes).WaitAsync(Bound);
        }

        // The owner asked linked the blob under its collector's hold; the other owner's pass, which nobody told, may
        // remove its copy (the repair loop restores R). The mounted blob is readable.
        Assert.Contains(owners, o => File.Exists(Origin(o).BlobDataPath(digest)));
        Assert.Equal(content, await Origin(via).Client.GetByteArrayAsync($"/v2/team/mounted/blobs/{digest.Value}"));
    }
}

using System.Text;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Collection;
using P2PRegistry.Origin.Storage;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Origin.Tests.Collection;

/// <summary>Passes over a real store folder laid out as the origin writes it, with file times set to make blobs old or young.</summary>
public sealed class GarbageCollectorTests : IDisposable
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);
    private static readonly DateTime Old = DateTime.UtcNow - TimeSpan.FromHours(3);

    private readonly TempDirectory _temp = new("gc-unit");
    private readonly StorageLayout _layout;
    private readonly CollectionGate _gate = new(TimeProvider.System);

    public GarbageCollectorTests() => _layout = new StorageLayout(_temp.Path);

    public void Dispose() => _temp.Dispose();

    private GarbageCollector Collector(long quota = 0) =>
        new(_layout, _gate, new PullThroughUsage(_layout, TimeProvider.System), name => name.StartsWith("docker.io/", StringComparison.Ordinal), Grace, quota, 4 * 1024 * 1024, TimeProvider.System);

    private Digest Blob(string content, DateTime? written = null, int size = 0)
    {
        var bytes = Encoding.UTF8.GetBytes(size > 0 ? content.PadRight(size, '.') : content);
        var digest = Digest.Compute(bytes);
        Directory.CreateDirectory(_layout.BlobDirectory(digest));
        File.WriteAllBytes(_layout.BlobData(digest), bytes);
        File.WriteAllBytes(_layout.BlobMetaInfo(digest), [1, 2, 3]);
        Age(_layout.BlobData(digest), written ?? Old);
        Age(_layout.BlobMetaInfo(digest), written ?? Old);
        Age(_layout.BlobDirectory(digest), written ?? Old);
        return digest;
    }

    private static void Age(string path, DateTime at)
    {
        if (Directory.Exists(path))
        {
            Directory.SetLastWriteTimeUtc(path, at);
        }
        else
        {
            File.SetLastWriteTimeUtc(path, at);
        }
    }

    private void Layer(string repository, Digest digest, DateTime? written = null) => Link(_layout.LayerLink(repository, digest), digest.Value, written ?? Old);

    private void Revision(string repository, Digest digest, DateTime? written = null) =>
        Link(_layout.ManifestRevisionLink(repository, digest), $"{digest.Value}\napplication/vnd.oci.image.manifest.v1+json\n", written ?? Old);

    private void Tag(string repository, string tag, Digest digest) => Link(_layout.TagLink(repository, tag), digest.Value, Old);

    private static void Link(string path, string text, DateTime at)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, at);
    }

    /// <summary>An image: config + layers as blobs linked into the repository, the manifest stored and its revision linked (and tagged).</summary>
    private (Digest Manifest, Digest[] Blobs) Image(string repository, string seed, string? tag = "latest", DateTime? used = null, int layerSize = 0)
    {
        var config = Blob($"config {seed}");
        var layer = Blob($"layer {seed}", size: layerSize);
        Layer(repository, config);
        Layer(repository, layer);
        var manifest = Blob($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{config.Value}}","size":1},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{layer.Value}}","size":1}]}""");
        Revision(repository, manifest, used);
        if (tag is not null)
        {
            Tag(repository, tag, manifest);
        }

        return (manifest, [config, layer]);
    }

    private bool Stored(Digest digest) => File.Exists(_layout.BlobData(digest)) || Directory.Exists(_layout.BlobDirectory(digest));

    [Fact]
    public void Run_RemovesOldUnreferencedBlobsWithMetaInfoAndLinks_KeepsReferencedAndYoung()
    {
        var kept = Image("app", "kept");
        var untagged = Image("app", "untagged", tag: null);
        var orphan = Blob("orphan, uploaded but never named by a manifest");
        Layer("app", orphan);
        Layer("other", orphan);
        var young = Blob("young: its manifest is on its way", written: DateTime.UtcNow);
        Layer("app", young, DateTime.UtcNow);
        var relinked = Blob("old bytes, mounted just now");
        Layer("fresh", relinked, DateTime.UtcNow);

        var report = Collector().Run(dryRun: false, CancellationToken.None);

        Assert.Equal([orphan], report.Removed.Select(r => r.Digest));
        Assert.False(Stored(orphan));
        Assert.False(File.Exists(_layout.BlobMetaInfo(orphan)));
        Assert.False(Directory.Exists(Path.GetDirectoryName(_layout.LayerLink("app", orphan))));
        Assert.False(Directory.Exists(Path.GetDirectoryName(_layout.LayerLink("other", orphan))));
        foreach (var digest in kept.Blobs.Append(kept.Manifest).Concat(untagged.Blobs).Append(untagged.Manifest).Append(young).Append(relinked))
        {
            Assert.True(File.Exists(_layout.BlobData(digest)), $"{digest} was removed");
        }

        Assert.Equal(2, report.Deferred);

        // What the cluster's repair loop leaves alone: every unreferenced blob, removed or deferred, and nothing referenced.
        Assert.Equal(new[] { orphan, young, relinked }.Select(d => d.Value).Order(), report.Unreferenced.Select(d => d.Value).Order());
    }

    [Fact]
    public void Run_AfterManifestDeleted_RemovesWhatOnlyItReferenced()
    {
        var shared = Blob("shared layer");
        var a = Image("app", "a");
        var b = Image("app", "b");
        Layer("app", shared);
        var withShared = Blob($$"""{"schemaVersion":2,"config":{"digest":"{{a.Blobs[0].Value}}"},"layers":[{"digest":"{{shared.Value}}"}]}""");
        Revision("app", withShared);
        var deleted = Directory.GetParent(_layout.ManifestRevisionLink("app", b.Manifest))!.FullName;
        Directory.Delete(deleted, recursive: true);
        Directory.Delete(Path.Combine(_layout.TagsDirectory("app"), "latest"), recursive: true);

        var report = Collector().Run(dryRun: false, CancellationToken.None);

        Assert.Equal(new[] { b.Manifest, b.Blobs[0], b.Blobs[1] }.OrderBy(d => d.Hex, StringComparer.Ordinal), report.Removed.Select(r => r.Digest));
        Assert.True(Stored(shared));
        Assert.All(a.Blobs, d => Assert.True(Stored(d)));
    }

    [Fact]
    public void Run_DryRun_ListsExactlyWhatTheRealRunRemoves_AndChangesNothing()
    {
        Image("app", "kept");
        var gone = Image("gone", "gone", tag: null);
        Directory.Delete(Directory.GetParent(_layout.ManifestRevisionLink("gone", gone.Manifest))!.FullName, recursive: true);
        Blob("orphan");
        var before = Directory.GetFiles(_temp.Path, "*", SearchOption.AllDirectories).Order().ToList();

        var dry = Collector().Run(dryRun: true, CancellationToken.None);
        Assert.Equal(before, Directory.GetFiles(_temp.Path, "*", SearchOption.AllDirectories).Order().ToList());
        var real = Collector().Run(dryRun: false, CancellationToken.None);

        Assert.Equal(4, dry.Removed.Count);
        Assert.Equal(dry.Removed, real.Removed);
        Assert.All(real.Removed, r => Assert.False(Stored(r.Digest)));
    }

    [Fact]
    public void Run_BlobPinnedByAPush_IsKeptUntilReleased()
    {
        var pinned = Blob("a manifest PUT naming this is being checked");
        var released = Blob("nobody holds this one");
        var collector = Collector();
        using (_gate.Hold(pinned))
        {
            var first = collector.Run(dryRun: false, CancellationToken.None);
            Assert.Equal([released], first.Removed.Select(r => r.Digest));
            Assert.Equal(1, first.Deferred);
            Assert.True(Stored(pinned));
        }

        // Released before the next pass began: its link (had it written one) would be in that pass's inventory.
        var second = collector.Run(dryRun: false, CancellationToken.None);
        Assert.Equal([pinned], second.Removed.Select(r => r.Digest));
    }

    [Fact]
    public void TryRemove_SkipsADigestPinnedOrReleasedSinceThePassBegan()
    {
        var digest = Digest.Compute("x"u8);
        var start = _gate.BeginPass();
        using (_gate.Hold(digest))
        {
            Assert.False(_gate.TryRemove(digest, start, () => Assert.Fail("removed while pinned")));
        }

        Assert.False(_gate.TryRemove(digest, start, () => Assert.Fail("removed though released after the pass began")));
        var later = _gate.BeginPass();
        var removed = false;
        Assert.True(_gate.TryRemove(digest, later, () => removed = true));
        Assert.True(removed);
    }

    [Fact]
    public void Release_IsRememberedOnlyWhileAPassRuns()
    {
        var digest = Digest.Compute("y"u8);
        for (var i = 0; i < 100; i++)
        {
            _gate.Hold(digest, Digest.Compute(BitConverter.GetBytes(i))).Dispose();
        }

        Assert.Equal(0, _gate.ReleasedCount);
        var start = _gate.BeginPass();
        _gate.Hold(digest).Dispose();
        Assert.Equal(1, _gate.ReleasedCount);
        Assert.False(_gate.TryRemove(digest, start, () => Assert.Fail("removed though released after the pass began")));
        _gate.EndPass();
        Assert.Equal(0, _gate.ReleasedCount);
    }

    [Fact]
    public void Run_EndsItsPass_ReleasesAfterItAreNotRemembered()
    {
        Blob("anything");
        Collector().Run(dryRun: false, CancellationToken.None);
        _gate.Hold(Digest.Compute("z"u8)).Dispose();
        Assert.Equal(0, _gate.ReleasedCount);
    }

    [Fact]
    public void Run_CorruptManifest_KeepsEverythingItMightReference()
    {
        var layer = Blob("layer of a manifest whose file rotted");
        Layer("app", layer);
        var corrupt = Blob($$"""{"schemaVersion":2,"layers":[{"digest":"{{layer.Value}}" ,,, torn""");
        Revision("app", corrupt);
        var doubts = new List<DoubtfulManifest>();
        var collector = Collector();
        collector.Doubt += doubts.Add;

        var report = collector.Run(dryRun: false, CancellationToken.None);

        Assert.Empty(report.Removed);
        Assert.True(Stored(layer));
        Assert.Equal(corrupt, Assert.Single(doubts).Digest);
    }

    [Fact]
    public void Run_PullThroughQuota_EvictsLeastRecentlyUsedFirst_NeverPushed()
    {
        var now = DateTime.UtcNow;
        var oldest = Image("docker.io/library/a", "a", used: now - TimeSpan.FromMinutes(30), layerSize: 1000);
        var middle = Image("docker.io/library/b", "b", used: now - TimeSpan.FromMinutes(20), layerSize: 1000);
        var newest = Image("docker.io/library/c", "c", used: now - TimeSpan.FromMinutes(10), layerSize: 1000);
        var pushed = Image("team/app", "pushed", layerSize: 5000);

        // Room for two pulled-through images (each ~1.4 kB: layer, config, manifest), not three.
        var report = Collector(quota: 3000).Run(dryRun: false, CancellationToken.None);

        Assert.Equal([("docker.io/library/a", oldest.Manifest)], report.Evicted);
        Assert.All(oldest.Blobs.Append(oldest.Manifest), d => Assert.False(Stored(d)));
        Assert.All(middle.Blobs.Concat(newest.Blobs).Concat(pushed.Blobs), d => Assert.True(Stored(d)));
        Assert.False(File.Exists(_layout.TagLink("docker.io/library/a", "latest")));
        Assert.True(report.PullThroughBytes <= 3000, $"{report.PullThroughBytes} bytes kept");
        Assert.True(report.PullThroughBytes > 2000, $"{report.PullThroughBytes} bytes kept");
    }

    [Fact]
    public void Run_PullThroughUse_RecordedInMemory_DecidesTheOrder()
    {
        var now = DateTime.UtcNow;
        var a = Image("docker.io/library/a", "a", used: now - TimeSpan.FromMinutes(30), layerSize: 1000);
        var b = Image("docker.io/library/b", "b", used: now - TimeSpan.FromMinutes(20), layerSize: 1000);
        var usage = new PullThroughUsage(_layout, TimeProvider.System);
        usage.Used("docker.io/library/a", a.Manifest);
        var collector = new GarbageCollector(_layout, _gate, usage, name => name.StartsWith("docker.io/", StringComparison.Ordinal), Grace, 1500, 4 * 1024 * 1024, TimeProvider.System);

        var report = collector.Run(dryRun: false, CancellationToken.None);

        Assert.Equal([("docker.io/library/b", b.Manifest)], report.Evicted);
        Assert.True(Stored(a.Blobs[1]));
    }
}

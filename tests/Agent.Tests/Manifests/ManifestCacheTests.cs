using System.Text;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Manifests;
using P2PRegistry.Core.Content;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Agent.Tests.Manifests;

/// <summary>The manifest cache as the disk collector sees it: sizes, last use by hits, persisted, removal.</summary>
public sealed class ManifestCacheTests : IDisposable
{
    private readonly TempDirectory _dir = new("agent-manifests");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 3, 0, 0, TimeSpan.Zero));

    public void Dispose() => _dir.Dispose();

    private static Manifest NewManifest(string text)
    {
        var content = Encoding.UTF8.GetBytes(text);
        return new Manifest(content, "application/vnd.oci.image.manifest.v1+json", Digest.Compute(content));
    }

    [Fact]
    public void TryGet_Hit_IsALastUse_PersistedAsTheContentFilesTime_AndSeenAfterARestart()
    {
        var cache = new ManifestCache(_dir.Path, _time);
        var manifest = NewManifest("{\"schemaVersion\":2}");
        cache.Put(manifest);
        var written = Assert.Single(cache.List());
        Assert.Equal(GcItemKind.Manifest, written.Kind);
        Assert.Equal(manifest.Content.Length + manifest.MediaType.Length, written.Bytes);

        _time.SetUtcNow(DateTimeOffset.UtcNow + TimeSpan.FromHours(1));
        Assert.NotNull(cache.TryGet(manifest.Digest));
        Assert.Equal(_time.GetUtcNow(), Assert.Single(cache.List()).LastUsed);

        cache.PersistLastUse();
        var reopened = Assert.Single(new ManifestCache(_dir.Path, _time).List());
        Assert.Equal(_time.GetUtcNow(), reopened.LastUsed);
        Assert.Equal(written.Added, reopened.Added);
    }

    [Fact]
    public void Put_AlreadyCached_IsALastUse()
    {
        // A pull by tag asks the origin each time and puts what it resolved: the kept copy was used.
        var cache = new ManifestCache(_dir.Path, _time);
        var manifest = NewManifest("{\"schemaVersion\":2,\"y\":1}");
        cache.Put(manifest);

        _time.SetUtcNow(DateTimeOffset.UtcNow + TimeSpan.FromHours(2));
        cache.Put(manifest);

        Assert.Equal(_time.GetUtcNow(), Assert.Single(cache.List()).LastUsed);
    }

    [Fact]
    public void List_ContentWithoutItsTypeFile_IsACandidate_AndRemoveTakesIt()
    {
        var cache = new ManifestCache(_dir.Path, _time);
        var manifest = NewManifest("{\"schemaVersion\":2,\"lone\":true}");
        var content = Path.Combine(_dir.Path, Digest.Sha256Algorithm, manifest.Digest.Hex);
        File.WriteAllBytes(content, manifest.Content.ToArray());
        File.WriteAllText(Path.Combine(_dir.Path, Digest.Sha256Algorithm, "not-a-digest"), "x");

        var item = Assert.Single(cache.List());
        Assert.Equal(manifest.Digest, item.Digest);
        Assert.Equal(manifest.Content.Length, item.Bytes);
        Assert.Null(cache.TryGet(manifest.Digest));
        Assert.Equal(manifest.Content.Length, cache.Remove(manifest.Digest, item.LastUsed));
        Assert.False(File.Exists(content));
        Assert.Empty(cache.List());
    }

    [Fact]
    public void Remove_UsedSinceTheListing_Refused_ElseBothFilesGo()
    {
        var cache = new ManifestCache(_dir.Path, _time);
        var manifest = NewManifest("{\"schemaVersion\":2,\"x\":1}");
        cache.Put(manifest);
        var seen = Assert.Single(cache.List()).LastUsed;

        _time.SetUtcNow(DateTimeOffset.UtcNow + TimeSpan.FromHours(1));
        Assert.NotNull(cache.TryGet(manifest.Digest));
        Assert.Equal(0, cache.Remove(manifest.Digest, seen));
        Assert.NotNull(cache.TryGet(manifest.Digest));

        var now = Assert.Single(cache.List()).LastUsed;
        Assert.True(cache.Remove(manifest.Digest, now) > 0);
        Assert.Null(cache.TryGet(manifest.Digest));
        Assert.Empty(cache.List());
    }
}

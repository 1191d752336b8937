using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Core.Content;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Agent.Tests.Cache;

public sealed class BlobCacheTests : IDisposable
{
    private readonly TempDirectory _dir = new("p2preg-cache");
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _dir.Dispose();

    private BlobCache NewCache(long capacity = 1000, double high = 0.9, double low = 0.5) =>
        new(_dir.Combine("cache"), capacity, high, low, _time);

    private (Digest Digest, string Path) Staged(int size, byte fill)
    {
        var bytes = Enumerable.Repeat(fill, size).ToArray();
        var path = _dir.Combine($"staged-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, bytes);
        return (Digest.Compute(bytes), path);
    }

    [Fact]
    public void Admit_MovesFileInAndLeaseReadsIt()
    {
        var cache = NewCache();
        var (digest, path) = Staged(100, 1);

        cache.Admit(digest, path);

        Assert.False(File.Exists(path));
        using var lease = cache.TryAcquire(digest);
        Assert.NotNull(lease);
        Assert.Equal(100, lease.Length);
        Assert.Equal(digest, Digest.Compute(File.ReadAllBytes(lease.Path)));
        Assert.Null(cache.TryAcquire(Staged(1, 9).Digest));
    }

    [Fact]
    public void Admit_AboveHighWatermark_EvictsLeastRecentlyUsedDownToLow()
    {
        var cache = NewCache(capacity: 1000, high: 0.9, low: 0.5);
        var evicted = new List<Digest>();
        cache.Evicted += evicted.Add;
        var blobs = Enumerable.Range(0, 4).Select(i => Staged(200, (byte)i)).ToList();
        foreach (var (digest, path) in blobs)
        {
            cache.Admit(digest, path);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // Touch the oldest so the second-oldest becomes least recently used.
        cache.TryAcquire(blobs[0].Digest)!.Dispose();
        _time.Advance(TimeSpan.FromSeconds(1));

        var (fifth, fifthPath) = Staged(200, 5);
        cache.Admit(fifth, fifthPath); // 1000 > 900: evict to ≤ 500

        Assert.Equal([blobs[1].Digest, blobs[2].Digest, blobs[3].Digest], evicted);
        Assert.True(cache.Contains(blobs[0].Digest));
        Assert.True(cache.Contains(fifth));
        Assert.Equal(400, cache.TotalBytes);
        Assert.False(File.Exists(cache.PathOf(blobs[1].Digest)));
    }

    [Fact]
    public void Admit_NeverEvictsABlobBeingRead()
    {
        var cache = NewCache(capacity: 1000, high: 0.5, low: 0.1);
        var (pinned, pinnedPath) = Staged(400, 1);
        cache.Admit(pinned, pinnedPath);
        using var lease = cache.TryAcquire(pinned);

        var (next, nextPath) = Staged(400, 2);
        cache.Admit(next, nextPath);

        Assert.True(cache.Contains(pinned));
        Assert.True(File.Exists(lease!.Path));
        Assert.True(cache.Contains(next));
    }

    [Fact]
    public void Constructor_ReloadsExistingBlobsAndDropsStrayFiles()
    {
        var first = NewCache();
        var (digest, path) = Staged(123, 7);
        first.Admit(digest, path);
        File.WriteAllText(_dir.Combine("cache", "sha256", "not-a-digest.tmp"), "x");

        var reopened = NewCache();

        Assert.True(reopened.Contains(digest));
        Assert.Equal(123, reopened.TotalBytes);
        Assert.Equal(1, reopened.Count);
        Assert.False(File.Exists(_dir.Combine("cache", "sha256", "not-a-digest.tmp")));
    }

    [Fact]
    public void Admit_ExistingDigest_KeepsOneCopy()
    {
        var cache = NewCache();
        var (digest, path) = Staged(50, 3);
        var (_, again) = Staged(50, 3);
        cache.Admit(digest, path);

        cache.Admit(digest, again);

        Assert.Equal(50, cache.TotalBytes);
        Assert.False(File.Exists(again));
    }
}

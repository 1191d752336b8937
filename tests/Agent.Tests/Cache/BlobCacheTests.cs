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

    private BlobCache NewCache() => new(_dir.Combine("cache"), _time);

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
    public void Admit_RaisesAdmitted_AndEvictsNothingItself()
    {
        var cache = NewCache();
        var admitted = new List<Digest>();
        cache.Admitted += admitted.Add;
        var blobs = Enumerable.Range(0, 4).Select(i => Staged(200, (byte)i)).ToList();
        foreach (var (digest, path) in blobs)
        {
            cache.Admit(digest, path);
        }

        Assert.Equal(blobs.Select(b => b.Digest), admitted);
        Assert.Equal(800, cache.TotalBytes);
    }

    [Fact]
    public void Snapshot_TracksLastUseByLeaseAndTouch()
    {
        var cache = NewCache();
        var (first, firstPath) = Staged(10, 1);
        var (second, secondPath) = Staged(20, 2);
        var admittedAt = _time.GetUtcNow();
        cache.Admit(first, firstPath);
        cache.Admit(second, secondPath);

        _time.Advance(TimeSpan.FromMinutes(1));
        var lease = cache.TryAcquire(first)!;
        _time.Advance(TimeSpan.FromMinutes(1));
        cache.Touch(second);

        var snapshot = cache.Snapshot().ToDictionary(b => b.Digest);
        Assert.Equal(admittedAt + TimeSpan.FromMinutes(1), snapshot[first].LastUsed);
        Assert.True(snapshot[first].BeingRead);
        Assert.Equal(admittedAt + TimeSpan.FromMinutes(2), snapshot[second].LastUsed);
        Assert.False(snapshot[second].BeingRead);
        Assert.Equal(admittedAt, snapshot[second].Added);
        lease.Dispose();
        Assert.False(cache.Snapshot().Single(b => b.Digest == first).BeingRead);
    }

    [Fact]
    public void TryEvict_BlobBeingRead_Refused_AfterTheLeaseEnds_Removed()
    {
        var cache = NewCache();
        var (digest, path) = Staged(100, 1);
        cache.Admit(digest, path);
        var seen = cache.Snapshot().Single().LastUsed;

        using (var lease = cache.TryAcquire(digest))
        {
            Assert.False(cache.TryEvict(digest, lease!.Entry.LastUsed));
            Assert.True(cache.Contains(digest));
        }

        seen = cache.Snapshot().Single().LastUsed;
        Assert.True(cache.TryEvict(digest, seen));
        Assert.False(cache.Contains(digest));
        Assert.False(File.Exists(cache.PathOf(digest)));
        Assert.Equal(0, cache.TotalBytes);
    }

    [Fact]
    public void TryEvict_UsedSinceTheSnapshot_Refused()
    {
        var cache = NewCache();
        var (digest, path) = Staged(100, 1);
        cache.Admit(digest, path);
        var seen = cache.Snapshot().Single().LastUsed;

        _time.Advance(TimeSpan.FromSeconds(1));
        cache.TryAcquire(digest)!.Dispose();

        Assert.False(cache.TryEvict(digest, seen));
        Assert.True(cache.Contains(digest));
    }

    [Fact]
    public void PersistLastUse_ARestartOrdersTheCacheAsBefore()
    {
        var cache = NewCache();
        var (older, olderPath) = Staged(10, 1);
        var (newer, newerPath) = Staged(10, 2);
        cache.Admit(older, olderPath);
        cache.Admit(newer, newerPath);
        _time.Advance(TimeSpan.FromHours(1));
        cache.TryAcquire(older)!.Dispose();
        var usedAt = _time.GetUtcNow();

        cache.PersistLastUse();
        var reopened = NewCache().Snapshot().ToDictionary(b => b.Digest);

        Assert.Equal(usedAt, reopened[older].LastUsed);
        Assert.True(reopened[newer].LastUsed < reopened[older].LastUsed);
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

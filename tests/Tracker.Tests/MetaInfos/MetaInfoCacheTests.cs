using P2PRegistry.Tracker.MetaInfos;

namespace P2PRegistry.Tracker.Tests.MetaInfos;

public sealed class MetaInfoCacheTests
{
    [Fact]
    public void Add_OverCapacity_EvictsLeastRecentlyUsedFromBothIndexes()
    {
        var a = TestMetaInfos.Create();
        var b = TestMetaInfos.Create();
        var c = TestMetaInfos.Create();
        // Room for two of these equally sized entries, not three.
        var cache = new MetaInfoCache((a.Encoded.Length * 2) + 1);

        cache.Add(a);
        cache.Add(b);
        Assert.True(cache.TryGet(a.Digest, out _)); // a is now more recent than b
        cache.Add(c);

        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet(a.InfoHash, out _));
        Assert.True(cache.TryGet(c.Digest, out _));
        Assert.False(cache.TryGet(b.Digest, out _));
        Assert.False(cache.TryGet(b.InfoHash, out _));
    }

    [Fact]
    public void Add_EntryLargerThanCapacity_IsKeptAlone()
    {
        var a = TestMetaInfos.Create();
        var b = TestMetaInfos.Create();
        var cache = new MetaInfoCache(10);

        cache.Add(a);
        cache.Add(b);

        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet(b.Digest, out var found));
        Assert.Same(b, found);
    }

    [Fact]
    public void Add_SameDigestTwice_CountsOnce()
    {
        var a = TestMetaInfos.Create();
        var cache = new MetaInfoCache(1 << 20);

        cache.Add(a);
        cache.Add(a);

        Assert.Equal(1, cache.Count);
    }
}

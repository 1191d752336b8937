using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.MetaInfos;

namespace P2PRegistry.Tracker.Tests.MetaInfos;

public sealed class KnownInfoHashesTests
{
    private static InfoHash Hash(int n) => InfoHash.Compute(BitConverter.GetBytes(n));

    [Fact]
    public void Add_PastCapacity_ForgetsTheLeastRecentlyUsed()
    {
        var known = new KnownInfoHashes(3);
        known.Add(Hash(1));
        known.Add(Hash(2));
        known.Add(Hash(3));
        Assert.True(known.Contains(Hash(1))); // now the most recently used

        known.Add(Hash(4));

        Assert.Equal(3, known.Count);
        Assert.False(known.Contains(Hash(2)));
        Assert.True(known.Contains(Hash(1)));
        Assert.True(known.Contains(Hash(3)));
        Assert.True(known.Contains(Hash(4)));
    }

    [Fact]
    public void Add_SameHashTwice_CountsOnce()
    {
        var known = new KnownInfoHashes(2);

        known.Add(Hash(1));
        known.Add(Hash(1));

        Assert.Equal(1, known.Count);
    }
}

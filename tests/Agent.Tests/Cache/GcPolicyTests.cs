using P2PRegistry.Agent.Cache;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Agent.Tests.Cache;

public sealed class GcPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);
    private readonly GcPolicy _policy = new(highThresholdPercent: 85, lowThresholdPercent: 80, minimumAge: TimeSpan.FromMinutes(2));

    private static GcItem Item(int id, long bytes, TimeSpan lastUsedAgo, TimeSpan? addedAgo = null, bool pinned = false, GcItemKind kind = GcItemKind.Blob) =>
        new(kind, Digest.Compute([(byte)id]), bytes, Now - lastUsedAgo, Now - (addedAgo ?? TimeSpan.FromHours(1)), pinned);

    [Theory]
    [InlineData(850, 1000, 0)] // at the high threshold: nothing
    [InlineData(851, 1000, 51)] // just above: down to the low one (800)
    [InlineData(1000, 1000, 200)]
    [InlineData(0, 1000, 0)]
    [InlineData(500, 0, 0)] // no budget known: nothing
    public void BytesToFree_AboveHighThreshold_FreesDownToLow(long used, long budget, long expected) =>
        Assert.Equal(expected, _policy.BytesToFree(used, budget));

    [Fact]
    public void BytesToFree_HugeFileSystem_NoOverflow()
    {
        const long exabyte = 1L << 60;
        Assert.Equal(exabyte - (long)((Int128)exabyte * 80 / 100), _policy.BytesToFree(exabyte, exabyte));
    }

    [Fact]
    public void BytesToFree_CapacityBudget_SamePercentsOfTheCapacity()
    {
        // Capacity mode: the agent's own bytes against Agent:CacheCapacityBytes, the same thresholds.
        var capacity = 10L * 1024 * 1024 * 1024;
        Assert.Equal(0, _policy.BytesToFree(capacity * 85 / 100, capacity));
        Assert.Equal(capacity - (capacity * 80 / 100), _policy.BytesToFree(capacity, capacity));
    }

    [Fact]
    public void SelectVictims_LeastRecentlyUsedFirst_StopsOnceEnoughIsFreed()
    {
        var items = new[]
        {
            Item(1, 100, TimeSpan.FromMinutes(10)),
            Item(2, 100, TimeSpan.FromMinutes(50)),
            Item(3, 100, TimeSpan.FromMinutes(30)),
            Item(4, 100, TimeSpan.FromMinutes(40), kind: GcItemKind.Manifest),
        };

        var victims = _policy.SelectVictims(items, bytesToFree: 150, Now);

        Assert.Equal([items[1], items[3]], victims);
    }

    [Fact]
    public void SelectVictims_EqualLastUse_LargerFirst()
    {
        var items = new[] { Item(1, 10, TimeSpan.FromMinutes(5)), Item(2, 500, TimeSpan.FromMinutes(5)) };
        Assert.Equal([items[1]], _policy.SelectVictims(items, 100, Now));
    }

    [Fact]
    public void SelectVictims_YoungerThanMinimumAge_Spared()
    {
        // Added 1 minute ago (last used long before that is impossible, but the age counts from when it was written).
        var young = Item(1, 1000, TimeSpan.FromMinutes(1), addedAgo: TimeSpan.FromMinutes(1));
        var exactlyOldEnough = Item(2, 10, TimeSpan.FromMinutes(2), addedAgo: TimeSpan.FromMinutes(2));
        var old = Item(3, 10, TimeSpan.FromSeconds(30), addedAgo: TimeSpan.FromDays(1));

        var victims = _policy.SelectVictims([young, exactlyOldEnough, old], bytesToFree: 5000, Now);

        Assert.Equal([exactlyOldEnough, old], victims);
    }

    [Fact]
    public void SelectVictims_Pinned_NeverChosen_EvenWhenShortOfTheTarget()
    {
        var pinned = Item(1, 1000, TimeSpan.FromDays(3), pinned: true);
        var other = Item(2, 10, TimeSpan.FromMinutes(5));

        var victims = _policy.SelectVictims([pinned, other], bytesToFree: 500, Now);

        Assert.Equal([other], victims);
    }

    [Fact]
    public void SelectVictims_NothingToFree_Empty() =>
        Assert.Empty(_policy.SelectVictims([Item(1, 100, TimeSpan.FromDays(1))], 0, Now));

    [Fact]
    public void SelectVictims_OneThousandItems_OrderIsByLastUse()
    {
        var random = new Random(18);
        var items = Enumerable.Range(0, 1000).Select(i => Item(i, 1 + random.Next(1000), TimeSpan.FromSeconds(200 + random.Next(100_000)))).ToList();

        var victims = _policy.SelectVictims(items, long.MaxValue, Now);

        Assert.Equal(1000, victims.Count);
        Assert.Equal(victims.OrderBy(v => v.LastUsed).Select(v => v.LastUsed), victims.Select(v => v.LastUsed));
    }
}

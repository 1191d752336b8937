namespace P2PRegistry.Agent.Cache;

/// <summary>
/// Which items a collection run removes, with no I/O (the kubelet's image GC rule): nothing while usage is at most the
/// high threshold of the budget; above it, enough to bring usage below the low threshold, least recently used first,
/// never a pinned item nor one younger than the minimum age.
/// </summary>
internal sealed class GcPolicy(int highThresholdPercent, int lowThresholdPercent, TimeSpan minimumAge)
{
    public int HighThresholdPercent { get; } = highThresholdPercent;

    public int LowThresholdPercent { get; } = lowThresholdPercent;

    public TimeSpan MinimumAge { get; } = minimumAge;

    /// <summary>
    /// Bytes to free so that <paramref name="usedBytes"/> of <paramref name="budgetBytes"/> goes below the low threshold:
    /// 0 unless usage is above the high threshold.
    /// </summary>
    public long BytesToFree(long usedBytes, long budgetBytes)
    {
        if (budgetBytes <= 0 || usedBytes <= 0)
        {
            return 0;
        }

        // Integer arithmetic in 128 bits: no rounding surprise at the boundary, no overflow for any disk.
        if ((Int128)usedBytes * 100 <= (Int128)budgetBytes * HighThresholdPercent)
        {
            return 0;
        }

        var low = (long)((Int128)budgetBytes * LowThresholdPercent / 100);
        return Math.Max(0, usedBytes - low);
    }

    /// <summary>
    /// The victims, in the order to remove them: the least recently used eligible items until their bytes reach
    /// <paramref name="bytesToFree"/> (all eligible items when they do not). Ties go to the larger item (fewer removals).
    /// </summary>
    public List<GcItem> SelectVictims(IEnumerable<GcItem> items, long bytesToFree, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(items);
        var victims = new List<GcItem>();
        if (bytesToFree <= 0)
        {
            return victims;
        }

        var eligible = new List<GcItem>();
        foreach (var item in items)
        {
            if (IsEligible(item, now))
            {
                eligible.Add(item);
            }
        }

        eligible.Sort(static (a, b) => a.LastUsed != b.LastUsed ? a.LastUsed.CompareTo(b.LastUsed) : b.Bytes.CompareTo(a.Bytes));
        var freed = 0L;
        foreach (var item in eligible)
        {
            if (freed >= bytesToFree)
            {
                break;
            }

            victims.Add(item);
            freed += item.Bytes;
        }

        return victims;
    }

    /// <summary>Neither pinned nor younger than the minimum age (since it was written, as the kubelet counts an image's age).</summary>
    public bool IsEligible(GcItem item, DateTimeOffset now) => !item.Pinned && now - item.Added >= MinimumAge;
}

namespace P2PRegistry.Harness.Measuring;

/// <summary>Percentiles of completion times by the nearest-rank rule: no interpolation, always a measured time.</summary>
internal static class Percentile
{
    /// <summary>
    /// The smallest value v such that at least <paramref name="percent"/> % of the values are ≤ v: the value of rank
    /// ⌈percent/100 · n⌉. p50 of 8 values is the 4th, p99 of fewer than 100 values is the largest.
    /// </summary>
    public static double NearestRank(IReadOnlyList<double> values, double percent)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("No values.", nameof(values));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }
}

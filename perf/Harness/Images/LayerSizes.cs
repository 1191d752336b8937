namespace P2PRegistry.Harness.Images;

/// <summary>The sizes of an image's layers: <c>count</c> sizes from <c>min</c> to <c>max</c> MiB, growing geometrically.</summary>
internal static class LayerSizes
{
    /// <summary>
    /// Whole-KiB byte counts, smallest first: min·(max/min)^(i/(count−1)) MiB for i = 0…count−1 (one layer: max).
    /// 8 layers from 5 to 200 MiB are 5, 8.4, 14.4, 24.3, 41.2, 69.7, 118 and 200 MiB: a few large layers holding
    /// most of the bytes, as in real images (a runtime or a model next to small configuration layers).
    /// </summary>
    public static IReadOnlyList<long> Geometric(int count, double minMib, double maxMib)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minMib);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMib, minMib);
        if (count == 1)
        {
            return [Kib(maxMib)];
        }

        var ratio = maxMib / minMib;
        return [.. Enumerable.Range(0, count).Select(i => Kib(minMib * Math.Pow(ratio, i / (double)(count - 1))))];
    }

    private static long Kib(double mib) => (long)Math.Round(mib * 1024) * 1024;
}

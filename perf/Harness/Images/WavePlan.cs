namespace P2PRegistry.Harness.Images;

/// <summary>
/// A rolling update's waves: how many clients start in each. Each wave starts when every client of the previous
/// one has its image (as a Deployment's rolling update starts the next pods once the new ones are ready), so later
/// waves find the earlier nodes' agents holding the image.
/// </summary>
internal static class WavePlan
{
    /// <summary><paramref name="waves"/> waves as even as can be, the larger ones first (10 clients in 4 waves: 3, 3, 2, 2).</summary>
    public static IReadOnlyList<int> ByCount(int clients, int waves)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(waves);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(waves, clients);
        return [.. Enumerable.Range(0, waves).Select(w => (clients / waves) + (w < clients % waves ? 1 : 0))];
    }

    /// <summary>Waves of ⌈clients·percent/100⌉ clients, the last one whatever is left (8 clients at 20 %: 2, 2, 2, 2).</summary>
    public static IReadOnlyList<int> ByPercent(int clients, int percent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        var size = (int)Math.Ceiling(clients * percent / 100.0);
        var sizes = new List<int>();
        for (var left = clients; left > 0; left -= size)
        {
            sizes.Add(Math.Min(size, left));
        }

        return sizes;
    }

    /// <summary>Splits <paramref name="items"/> (in order) into consecutive waves of the given sizes.</summary>
    public static IReadOnlyList<IReadOnlyList<T>> Split<T>(IReadOnlyList<T> items, IReadOnlyList<int> sizes)
    {
        if (sizes.Sum() != items.Count || sizes.Any(s => s <= 0))
        {
            throw new ArgumentException($"Wave sizes {string.Join(",", sizes)} do not cover {items.Count} items.", nameof(sizes));
        }

        var waves = new List<IReadOnlyList<T>>();
        var start = 0;
        foreach (var size in sizes)
        {
            waves.Add([.. items.Skip(start).Take(size)]);
            start += size;
        }

        return waves;
    }
}

namespace P2PRegistry.Harness.Measuring;

/// <summary>Empirical distribution of completion times: the fraction of clients done by time t.</summary>
internal static class Cdf
{
    /// <summary>
    /// The step function as a path: starts at (0, 0); at each completion time it rises by 1/N (equal times rise
    /// together). Failed clients never arrive, so a curve that stops below 1 shows them.
    /// </summary>
    public static IReadOnlyList<(double Seconds, double Fraction)> Steps(IReadOnlyList<double> completions, int clients)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        var sorted = completions.Order().ToList();
        var points = new List<(double, double)> { (0, 0) };
        var done = 0;
        var i = 0;
        while (i < sorted.Count)
        {
            var t = sorted[i];
            var before = (double)done / clients;
            while (i < sorted.Count && sorted[i] == t)
            {
                done++;
                i++;
            }

            points.Add((t, before));
            points.Add((t, (double)done / clients));
        }

        return points;
    }

    /// <summary>The median (mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("No values.", nameof(values));
        }

        var sorted = values.Order().ToList();
        var mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

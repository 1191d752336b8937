using System.Numerics;

namespace P2PRegistry.TrackerLoad.Measuring;

/// <summary>
/// Latencies in microseconds, counted in log-linear buckets: exact below 128 µs, then 64 buckets per power of two
/// (every value is within 1/64 ≈ 1.6 % of its bucket's upper bound). Fixed size whatever the run's length, so a
/// caller records without allocating and histograms of many callers merge. Not thread-safe: one per caller.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int LinearLimit = 128;
    private const int SubBuckets = 64;
    private const int SubBucketBits = 6;

    // Values up to long.MaxValue: magnitudes 1..57 above the linear part.
    private readonly long[] _counts = new long[LinearLimit + ((63 - SubBucketBits) * SubBuckets)];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public long Min { get; private set; } = long.MaxValue;

    public double Sum { get; private set; }

    public double Mean => Count == 0 ? 0 : Sum / Count;

    public void Record(long microseconds)
    {
        var value = Math.Max(0, microseconds);
        _counts[IndexOf(value)]++;
        Count++;
        Sum += value;
        Max = Math.Max(Max, value);
        Min = Math.Min(Min, value);
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
        Min = Math.Min(Min, other.Min);
    }

    /// <summary>
    /// The nearest-rank percentile (the smallest recorded value with at least <paramref name="percent"/> % of the
    /// values at or below it), as its bucket's upper bound: never below the true value, at most 1.6 % above it.
    /// 0 when nothing was recorded.
    /// </summary>
    public long Percentile(double percent)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        if (Count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Clamp(UpperBoundOf(i), Min, Max);
            }
        }

        return Max;
    }

    internal static int IndexOf(long value)
    {
        if (value < LinearLimit)
        {
            return (int)value;
        }

        // value >> magnitude lies in [64, 128).
        var magnitude = 63 - BitOperations.LeadingZeroCount((ulong)value) - SubBucketBits;
        return LinearLimit + ((magnitude - 1) * SubBuckets) + (int)((value >> magnitude) - SubBuckets);
    }

    internal static long UpperBoundOf(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        var magnitude = ((index - LinearLimit) / SubBuckets) + 1;
        var low = (long)(((index - LinearLimit) % SubBuckets) + SubBuckets) << magnitude;
        return low + (1L << magnitude) - 1;
    }
}

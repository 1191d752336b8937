namespace P2PRegistry.Swarm.Announcing;

/// <summary>
/// When a blob announces next: the one place that decides it. After a success, the regular interval (a seed a little
/// early, at random, so seeds that announced together drift apart). After failures in a row, exponential back-off with
/// full jitter: a uniform delay in [0, min(cap, interval × 2^failures)] (at least <see cref="MinimumRetryDelay"/>), so
/// the mean delay after the first failure is the regular interval and doubles with each further failure up to half the
/// cap. Downloads use their short interval and cap (they need peers soon), seeds theirs. Announces that fall due
/// together (the cached blobs at start, blobs in back-off when the tracker answers again) are spread over a window of
/// <see cref="SpreadSpacing"/> per announce, at most the configured spread.
/// </summary>
internal sealed class AnnouncePolicy
{
    /// <summary>A seed announces again after between 90 % and 100 % of its interval: never later, so the tracker's peer TTL holds.</summary>
    public const double SeedIntervalJitter = 0.1;

    /// <summary>The shortest retry after a failure (unless the interval itself is shorter): full jitter never means a busy loop.</summary>
    public static readonly TimeSpan MinimumRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Announces spread over a window are this far apart on average: at most 50 a second from one node.</summary>
    public static readonly TimeSpan SpreadSpacing = TimeSpan.FromMilliseconds(20);

    private readonly TimeSpan _downloadInterval;
    private readonly TimeSpan _seedInterval;
    private readonly TimeSpan _downloadCap;
    private readonly TimeSpan _seedCap;
    private readonly TimeSpan _maxSpread;

    public AnnouncePolicy(TimeSpan downloadInterval, TimeSpan seedInterval, TimeSpan downloadCap, TimeSpan seedCap, TimeSpan maxSpread)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(downloadInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(seedInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(downloadCap, downloadInterval);
        ArgumentOutOfRangeException.ThrowIfLessThan(seedCap, seedInterval);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxSpread, TimeSpan.Zero);
        _downloadInterval = downloadInterval;
        _seedInterval = seedInterval;
        _downloadCap = downloadCap;
        _seedCap = seedCap;
        _maxSpread = maxSpread;
    }

    public static AnnouncePolicy From(SwarmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.DownloadAnnounceInterval, options.SeedAnnounceInterval, options.DownloadAnnounceBackoffCap, options.AnnounceBackoffCap, options.AnnounceSpread);
    }

    /// <summary>
    /// The delay until the next announce. <paramref name="failures"/>: announces of this blob that failed in a row (0 after
    /// a success, which resets the back-off); <paramref name="trackerInterval"/>: what the tracker asked for last (a seed
    /// honours it when longer than its own interval); <paramref name="random"/>: uniform in [0, 1).
    /// </summary>
    public TimeSpan NextDelay(bool downloading, int failures, TimeSpan trackerInterval, double random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(failures);
        random = Math.Clamp(random, 0, 1);
        var interval = downloading ? _downloadInterval : _seedInterval;
        if (failures == 0)
        {
            if (downloading)
            {
                return interval;
            }

            var regular = trackerInterval > interval ? trackerInterval : interval;
            return regular * (1 - (SeedIntervalJitter * random));
        }

        var ceiling = Ceiling(downloading, failures);
        var floor = interval < MinimumRetryDelay ? interval : MinimumRetryDelay;
        var delay = ceiling * random;
        return delay < floor ? floor : delay;
    }

    /// <summary>The upper bound of the jittered delay after <paramref name="failures"/> failures in a row (at least 1).</summary>
    public TimeSpan Ceiling(bool downloading, int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        var interval = downloading ? _downloadInterval : _seedInterval;
        var cap = downloading ? _downloadCap : _seedCap;

        // interval × 2^failures without overflow: past the cap after at most ~40 doublings of a tick.
        var ceiling = interval;
        for (var i = 0; i < failures && ceiling < cap; i++)
        {
            ceiling *= 2;
        }

        return ceiling < cap ? ceiling : cap;
    }

    /// <summary>The window <paramref name="count"/> announces due together are spread over: <see cref="SpreadSpacing"/> each, at most the configured spread.</summary>
    public TimeSpan SpreadWindow(int count, bool downloading)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var max = downloading ? (_downloadInterval < _maxSpread ? _downloadInterval : _maxSpread) : _maxSpread;
        var window = SpreadSpacing * count;
        return window < max ? window : max;
    }
}

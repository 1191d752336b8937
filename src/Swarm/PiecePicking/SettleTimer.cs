namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>
/// One super-seeded peer's pace: how many of the pieces shown to it settled (sent to it in full, or it got them
/// elsewhere), and its time from reveal to settle, smoothed. <see cref="SlowPeerOffset"/> reads the time,
/// <see cref="RevealLimit"/> the count.
/// </summary>
/// <remarks>Without a clock only the count is kept: every peer is then as fast as any other.</remarks>
internal sealed class SettleTimer(TimeProvider? time)
{
    /// <summary>Pieces shown to the peer that settled.</summary>
    public int Settled { get; private set; }

    /// <summary>Seconds from reveal to settle, smoothed; 0 until the first piece settled (or without a clock).</summary>
    public double Latency { get; private set; }

    /// <summary>A piece shown at <paramref name="shownAt"/> (a timestamp of the clock) settled.</summary>
    public void Observe(long shownAt)
    {
        Settled++;
        if (time is null)
        {
            return;
        }

        var seconds = time.GetElapsedTime(shownAt).TotalSeconds;
        Latency = Latency > 0 ? (0.7 * Latency) + (0.3 * seconds) : Math.Max(seconds, 1e-6);
    }

    /// <summary>
    /// The smoothed time to settle, or longer: a piece pending longer than that (<paramref name="oldestPendingShownAt"/>,
    /// the oldest of the peer's pieces shown and not settled, if any) says the peer slowed down.
    /// </summary>
    public double LatencyWith(long? oldestPendingShownAt)
    {
        if (Latency <= 0 || time is null || oldestPendingShownAt is not { } oldest)
        {
            return Latency;
        }

        return Math.Max(Latency, time.GetElapsedTime(oldest).TotalSeconds);
    }
}

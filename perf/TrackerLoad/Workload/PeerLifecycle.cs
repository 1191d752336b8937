using P2PRegistry.Contracts.Tracker;

namespace P2PRegistry.TrackerLoad.Workload;

/// <summary>
/// The announces one agent sends for one blob, in order: STARTED, a few periodic announces while downloading,
/// COMPLETED, then periodic announces as a seed — until the node drops the blob (its cache collected) and pulls it
/// again, starting over with STARTED (<c>restart</c>). A peer's state is one byte:
/// 0 = not started, 1..<c>downloadingAnnounces</c> + 1 = downloading (that many announces made), <see cref="Seeding"/>.
/// </summary>
internal static class PeerLifecycle
{
    public const byte Seeding = byte.MaxValue;

    /// <summary>The most periodic announces a download makes before its COMPLETED.</summary>
    public const int MaxDownloadingAnnounces = 200;

    /// <summary>The next announce of a peer in <paramref name="state"/> and the state once it is accepted.</summary>
    public static (AnnounceEvent Event, bool Complete, byte Next) Next(byte state, int downloadingAnnounces, bool restart = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(downloadingAnnounces);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(downloadingAnnounces, MaxDownloadingAnnounces);
        if (state == Seeding)
        {
            return restart ? (AnnounceEvent.Started, false, (byte)1) : (AnnounceEvent.None, true, Seeding);
        }

        if (state == 0)
        {
            return (AnnounceEvent.Started, false, 1);
        }

        return state <= downloadingAnnounces
            ? (AnnounceEvent.None, false, (byte)(state + 1))
            : (AnnounceEvent.Completed, true, Seeding);
    }

    /// <summary>Bytes a peer in <paramref name="state"/> still lacks: a download advances evenly over its announces.</summary>
    public static long BytesLeft(byte state, int downloadingAnnounces, long length)
    {
        if (state == Seeding)
        {
            return 0;
        }

        var steps = downloadingAnnounces + 1;
        var done = Math.Min(Math.Max(state - 1, 0), steps);
        return length - (length * done / steps);
    }
}

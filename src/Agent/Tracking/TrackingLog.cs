namespace P2PRegistry.Agent.Tracking;

internal static partial class TrackingLog
{
    [LoggerMessage(60, LogLevel.Warning, "Tracker {Tracker} failed ({Reason}); skipped for {SkippedFor}, trying the next one")]
    public static partial void TrackerFailed(this ILogger logger, string tracker, string reason, TimeSpan skippedFor);

    [LoggerMessage(61, LogLevel.Information, "Trackers: {Trackers}")]
    public static partial void TrackersConfigured(this ILogger logger, string trackers);

    [LoggerMessage(62, LogLevel.Error, "The reloaded tracker list is not used ({Reason}); keeping {Trackers}")]
    public static partial void TrackerListRejected(this ILogger logger, string reason, string trackers);
}

namespace P2PRegistry.Agent.Readiness;

internal static partial class ReadinessLog
{
    [LoggerMessage(70, LogLevel.Information, "Start-up warm-up done in {Milliseconds} ms: {Steps}")]
    public static partial void WarmedUp(ILogger logger, long milliseconds, string steps);

    [LoggerMessage(71, LogLevel.Information, "Ready: tracker {Tracker} answered ({Milliseconds} ms after the start)")]
    public static partial void Ready(ILogger logger, string tracker, long milliseconds);

    [LoggerMessage(72, LogLevel.Warning, "Not ready: no tracker reachable ({Reasons}); probing again in {Delay}")]
    public static partial void NoTrackerReachable(ILogger logger, string reasons, TimeSpan delay);
}

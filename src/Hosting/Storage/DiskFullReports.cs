namespace P2PRegistry.Hosting.Storage;

/// <summary>
/// Decides when a full disk is logged: once per <see cref="Period"/> for each write path, with the number of refusals
/// since the last line, so a node whose disk stays full writes one line a minute per path rather than one per request
/// (which would fill what little is left). Holds no "disk full" state: every write is tried again.
/// </summary>
public sealed class DiskFullReports(TimeProvider time, TimeSpan period)
{
    private readonly Dictionary<string, (long LoggedAt, long Suppressed)> _paths = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The default period between two log lines of one path.</summary>
    public static readonly TimeSpan DefaultPeriod = TimeSpan.FromMinutes(1);

    public DiskFullReports(TimeProvider time)
        : this(time, DefaultPeriod)
    {
    }

    public TimeSpan Period { get; } = period;

    /// <summary>
    /// Counts a full disk on <paramref name="path"/>; true when it is to be logged now, with
    /// <paramref name="suppressed"/> the refusals on that path not logged since its last line.
    /// </summary>
    public bool ShouldLog(string path, out long suppressed)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (_paths.TryGetValue(path, out var last) && time.GetElapsedTime(last.LoggedAt, now) < Period)
            {
                _paths[path] = (last.LoggedAt, last.Suppressed + 1);
                suppressed = 0;
                return false;
            }

            suppressed = last.Suppressed;
            _paths[path] = (now, 0);
            return true;
        }
    }
}

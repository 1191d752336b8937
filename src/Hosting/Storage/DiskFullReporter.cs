namespace P2PRegistry.Hosting.Storage;

/// <summary>
/// Recognises a full volume under one folder (<see cref="DiskFull"/>) and reports it: a count for every failed write
/// and a log line at most once a minute per write path (<see cref="DiskFullReports"/>). Keeps no "full" state: the next
/// write is tried, so everything works again as soon as space is back. Each component gives it its own counter and
/// log event.
/// </summary>
public sealed class DiskFullReporter
{
    private readonly string _root;
    private readonly DiskFullReports _reports;
    private readonly Action<string> _count;
    private readonly Action<string, string, long> _log;

    /// <param name="root">The folder whose file system is watched (the agent's data folder, the origin's storage).</param>
    /// <param name="count">Counts one failed write on a write path (the component's <c>disk_full</c> counter).</param>
    /// <param name="log">Logs (write path, reason, failures not logged since the last line).</param>
    public DiskFullReporter(string root, TimeProvider time, Action<string> count, Action<string, string, long> log)
    {
        _root = root;
        _reports = new DiskFullReports(time);
        _count = count;
        _log = log;
    }

    /// <summary>Whether <paramref name="exception"/> (or one it wraps) is the watched file system being full.</summary>
    public bool IsFull(Exception? exception) => DiskFull.Is(exception, _root);

    /// <summary>Counts a write on <paramref name="writePath"/> that failed for a full disk; logs it unless it was logged lately.</summary>
    public void Report(string writePath, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        _count(writePath);
        if (_reports.ShouldLog(writePath, out var suppressed))
        {
            _log(writePath, exception.Message, suppressed);
        }
    }
}

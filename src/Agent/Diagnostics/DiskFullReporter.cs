using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Hosting.Storage;

namespace P2PRegistry.Agent.Diagnostics;

/// <summary>
/// Recognises a full data folder (<see cref="DiskFull"/>) and reports it: the <c>disk_full</c> counter for every failed
/// write, a log line at most once a minute per write path. Keeps no "full" state: the next request tries again, so
/// the agent works as before as soon as space is back.
/// </summary>
internal sealed class DiskFullReporter(AgentMetrics metrics, IOptions<AgentOptions> options, TimeProvider time, ILogger<DiskFullReporter> logger)
{
    private readonly string _dataPath = options.Value.DataPath;
    private readonly DiskFullReports _reports = new(time);

    /// <summary>Whether <paramref name="exception"/> (or one it wraps) is the data folder's file system being full.</summary>
    public bool IsFull(Exception? exception) => DiskFull.Is(exception, _dataPath);

    /// <summary>Counts a write on <paramref name="writePath"/> that failed for a full disk; logs it unless it was logged lately.</summary>
    public void Report(string writePath, Exception exception)
    {
        metrics.DiskFull(writePath);
        if (_reports.ShouldLog(writePath, out var suppressed))
        {
            AgentLog.DiskFull(logger, writePath, exception.Message, suppressed);
        }
    }
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Hosting.Storage;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Diagnostics;

namespace P2PRegistry.Origin.Storage;

/// <summary>
/// Recognises a full storage volume (<see cref="DiskFull"/>) and reports it: the <c>disk_full</c> counter for every
/// refused write, a log line at most once a minute per write path. Keeps no "full" state: the next write is tried.
/// </summary>
internal sealed class StorageFullReporter(OriginMetrics metrics, IOptions<OriginOptions> options, TimeProvider time, ILogger<StorageFullReporter> logger)
{
    private readonly string _storagePath = options.Value.StoragePath;
    private readonly DiskFullReports _reports = new(time);

    /// <summary>Whether <paramref name="exception"/> is the storage volume being full.</summary>
    public bool IsFull(Exception? exception) => DiskFull.Is(exception, _storagePath);

    /// <summary>Counts a write on <paramref name="writePath"/> refused for a full disk, and logs it unless it was logged lately.</summary>
    public void Report(string writePath, Exception exception)
    {
        metrics.DiskFull(writePath);
        if (_reports.ShouldLog(writePath, out var suppressed))
        {
            OriginLog.StorageFull(logger, writePath, exception.Message, suppressed);
        }
    }
}

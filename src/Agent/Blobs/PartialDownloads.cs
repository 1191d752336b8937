using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// What a restarted agent finds in <c>download/</c>: swarm downloads it may resume and streams from the origin it
/// cannot. The swarm library names and removes its downloads' files (<see cref="PartialDownloadFiles"/>).
/// </summary>
internal sealed class PartialDownloads(IOptions<AgentOptions> options, ILogger<PartialDownloads> logger)
{
    private readonly string _root = Path.GetFullPath(options.Value.DownloadPath);
    private readonly TimeSpan _retention = options.Value.PartialDownloadRetention;

    /// <summary>
    /// At start: removes what no download will come back for — streams from the origin (they cannot resume) and
    /// partial swarm downloads nobody touched for <c>Agent:PartialDownloadRetention</c> or whose data file is gone.
    /// Recent partial downloads stay: the next request for their blob resumes from their verified pieces. Only files
    /// last written before <paramref name="startedAt"/> are candidates, so a download this process began is never hit.
    /// </summary>
    public void Sweep(DateTimeOffset startedAt)
    {
        if (!Directory.Exists(_root))
        {
            return;
        }

        var removed = 0;
        foreach (var data in PartialDownloadFiles.EnumerateDataFiles(_root))
        {
            try
            {
                if (PartialDownloadFiles.LastWriteTimeUtc(data) is not { } written || written >= startedAt.UtcDateTime)
                {
                    continue;
                }

                if (data.EndsWith(OriginBlobDownload.FileSuffix, StringComparison.Ordinal) || startedAt.UtcDateTime - written > _retention || !File.Exists(data))
                {
                    removed += PartialDownloadFiles.Delete(data);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                AgentLog.SweepFailed(logger, data, ex.Message);
            }
        }

        if (removed > 0)
        {
            AgentLog.DownloadsSwept(logger, removed, _root);
        }
    }
}

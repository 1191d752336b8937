using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Core.Content;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// What a restarted agent finds in <c>download/</c>: swarm downloads it may resume and streams from the origin it
/// cannot. The swarm library names and removes its downloads' files (<see cref="PartialDownloadFiles"/>). While the
/// agent runs, the collector (<see cref="DiskCollector"/>) lists the ones no fetch is running for and removes those
/// abandoned (untouched for <c>Agent:PartialDownloadRetention</c>) or chosen to free space.
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

    /// <summary>
    /// The partial downloads on disk, each as a collector item by its blob's digest (the last write is its last use and
    /// the best known time it was written); <paramref name="isActive"/> pins those a fetch is running for. Files not
    /// named by a digest are left to the sweep at start.
    /// </summary>
    public List<GcItem> List(Func<Digest, bool> isActive)
    {
        var items = new List<GcItem>();
        if (!Directory.Exists(_root))
        {
            return items;
        }

        foreach (var data in PartialDownloadFiles.EnumerateDataFiles(_root))
        {
            try
            {
                if (DigestOf(data) is not { } digest || PartialDownloadFiles.LastWriteTimeUtc(data) is not { } written)
                {
                    continue;
                }

                var at = new DateTimeOffset(written, TimeSpan.Zero);
                items.Add(new GcItem(GcItemKind.PartialDownload, digest, PartialDownloadFiles.Length(data), at, at, isActive(digest)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                AgentLog.SweepFailed(logger, data, ex.Message);
            }
        }

        return items;
    }

    /// <summary>Whether a partial download untouched since <paramref name="lastWrite"/> is abandoned at <paramref name="now"/>.</summary>
    public bool IsAbandoned(DateTimeOffset lastWrite, DateTimeOffset now) => now - lastWrite > _retention;

    /// <summary>
    /// Removes the partial download of <paramref name="digest"/> (both the swarm's and an origin stream's). Only through
    /// <see cref="BlobFetcher.RemoveIfIdle"/>, which holds off a fetch of it from starting (and resuming these files)
    /// until the files are gone. Returns the bytes removed.
    /// </summary>
    public long Remove(Digest digest)
    {
        var removed = 0L;
        foreach (var data in new[] { Path.Combine(_root, digest.Hex), Path.Combine(_root, digest.Hex + OriginBlobDownload.FileSuffix) })
        {
            try
            {
                var length = PartialDownloadFiles.Length(data);
                if (PartialDownloadFiles.Delete(data) > 0)
                {
                    removed += length;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                AgentLog.SweepFailed(logger, data, ex.Message);
            }
        }

        return removed;
    }

    private static Digest? DigestOf(string data)
    {
        var name = Path.GetFileName(data);
        if (name.EndsWith(OriginBlobDownload.FileSuffix, StringComparison.Ordinal))
        {
            name = name[..^OriginBlobDownload.FileSuffix.Length];
        }

        return Digest.TryParse(Digest.Sha256Algorithm + ":" + name, out var digest) ? digest : null;
    }
}

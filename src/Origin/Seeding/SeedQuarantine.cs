using System.Buffers;
using Microsoft.Extensions.Hosting;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Storage;
using P2PRegistry.Swarm;

namespace P2PRegistry.Origin.Seeding;

/// <summary>
/// The origin's answer to a stored blob found corrupt while seeding it (the engine checks each piece against its SHA-1
/// on its first read, never sends a piece that fails, stops that swarm and raises <see cref="SwarmEngine.SeedCorrupted"/>):
/// the blob's data is moved out of the store into <c>quarantine/</c>. From then on the registry answers BLOB_UNKNOWN
/// for it (or fills it again from an upstream), the peer port refuses it (the seed index finds no data, so it is not
/// reopened on demand from the same file), and a push of the same digest stores it afresh. The move happens while the
/// engine still holds the corrupt swarm, so no handshake can reopen the file in between.
/// </summary>
internal sealed class SeedQuarantine : IHostedService
{
    private readonly SwarmEngine _engine;
    private readonly BlobStore _blobs;
    private readonly StorageLayout _layout;
    private readonly OriginMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<SeedQuarantine> _logger;

    public SeedQuarantine(SwarmEngine engine, BlobStore blobs, OriginMetrics metrics, TimeProvider time, ILogger<SeedQuarantine> logger)
    {
        _engine = engine;
        _blobs = blobs;
        _layout = blobs.Layout;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _engine.SeedCorrupted += OnSeedCorrupted;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _engine.SeedCorrupted -= OnSeedCorrupted;
        return Task.CompletedTask;
    }

    /// <summary>Moves the corrupt blob's data aside (on the engine's thread that found it: a rename, and one piece read).</summary>
    internal void OnSeedCorrupted(SeedCorruption corruption)
    {
        var digest = corruption.Digest;
        var data = _layout.BlobData(digest);

        // Only a blob of this store, still there (the origin seeds nothing else).
        if (!string.Equals(Path.GetFullPath(corruption.Path), data, StringComparison.Ordinal) || !File.Exists(data))
        {
            return;
        }

        try
        {
            // A push may have replaced the file since the swarm opened it: the file there now is judged, not the old one.
            if (PieceNowMatches(corruption, data))
            {
                SeedingLog.QuarantineSkipped(_logger, digest.Value, data, corruption.Piece);
                return;
            }

            Directory.CreateDirectory(_layout.Quarantine);
            var target = _layout.QuarantinedBlob(digest, _time.GetUtcNow());
            File.Move(data, target);
            _blobs.ReportRemoved(digest);
            SeedingLog.BlobQuarantined(_logger, digest.Value, corruption.Piece, target);
            _metrics.BlobQuarantined();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            SeedingLog.BlobQuarantineFailed(_logger, digest.Value, corruption.Piece, exception.Message);
        }
    }

    /// <summary>True when the piece that failed reads back intact from the stored file now, per its stored metainfo.</summary>
    private bool PieceNowMatches(SeedCorruption corruption, string data)
    {
        MetaInfo metaInfo;
        try
        {
            metaInfo = MetaInfo.Decode(File.ReadAllBytes(_layout.BlobMetaInfo(corruption.Digest)));
        }
        catch (Exception exception) when (exception is FormatException or FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }

        if (metaInfo.InfoHash != corruption.InfoHash || corruption.Piece >= metaInfo.PieceCount)
        {
            return false;
        }

        using var file = File.OpenHandle(data, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        if (RandomAccess.GetLength(file) != metaInfo.Length)
        {
            return false;
        }

        var size = metaInfo.GetPieceSize(corruption.Piece);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var offset = metaInfo.GetPieceOffset(corruption.Piece);
            var total = 0;
            while (total < size)
            {
                var read = RandomAccess.Read(file, buffer.AsSpan(total, size - total), offset + total);
                if (read == 0)
                {
                    return false;
                }

                total += read;
            }

            return metaInfo.PieceHashMatches(corruption.Piece, buffer.AsSpan(0, size));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Hosting.Storage;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Origin.Storage;

/// <summary>
/// The content-addressed blob store. A blob becomes visible only by renaming a file whose SHA-256 was
/// verified and which was flushed to disk, so a crash never leaves wrong or partial bytes under a digest.
/// </summary>
internal sealed class BlobStore
{
    private readonly StorageLayout _layout;
    private readonly OriginMetrics _metrics;
    private readonly ILogger<BlobStore> _logger;
    private readonly DiskFullReporter _storageFull;

    // One on-demand metainfo computation per digest, however many callers ask at once.
    private readonly ConcurrentDictionary<Digest, Lazy<Task<MetaInfo>>> _computing = new();

    public BlobStore(StorageLayout layout, OriginMetrics metrics, ILogger<BlobStore> logger, DiskFullReporter storageFull)
    {
        _storageFull = storageFull;
        _layout = layout;
        _metrics = metrics;
        _logger = logger;
    }

    public StorageLayout Layout => _layout;

    /// <summary>Raised after a blob became visible under its digest (the seed index listens).</summary>
    public event Action<MetaInfo>? Stored;

    /// <summary>Raised after a blob's data left the store (garbage collection, a cluster member's drop, quarantine).</summary>
    public event Action<Digest>? Removed;

    /// <summary>Whoever removed or moved a blob's data says so here (the seed index then forgets it was stored here).</summary>
    public void ReportRemoved(Digest digest) => Removed?.Invoke(digest);

    public bool TryGetLength(Digest digest, out long length)
    {
        var info = new FileInfo(_layout.BlobData(digest));
        length = info.Exists ? info.Length : 0;
        return info.Exists;
    }

    public string DataPath(Digest digest) => _layout.BlobData(digest);

    /// <summary>
    /// Makes a verified, fsynced temp file the blob <paramref name="digest"/>. The metainfo is written
    /// first, so a blob that is visible nearly always has one. Renaming over an existing identical blob
    /// (two clients pushing the same layer at once) is harmless: one copy remains.
    /// </summary>
    public async Task CommitAsync(string verifiedTempFile, Digest digest, MetaInfo metaInfo, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_layout.BlobDirectory(digest));
        await DurableFiles.WriteAtomicallyAsync(_layout.BlobMetaInfo(digest), metaInfo.Encoded, cancellationToken).ConfigureAwait(false);
        File.Move(verifiedTempFile, _layout.BlobData(digest), overwrite: true);
        Stored?.Invoke(metaInfo);
    }

    /// <summary>Stores a small blob held in memory (a manifest) and returns its digest.</summary>
    public async Task<Digest> StoreAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var digest = Digest.Compute(content.Span);
        if (TryGetLength(digest, out var existing) && existing == content.Length)
        {
            return digest;
        }

        var pieceLength = PieceLength.For(content.Length);
        using var hasher = new PieceHasher(pieceLength);
        hasher.Append(content.Span);
        var metaInfo = MetaInfo.Create(digest, content.Length, pieceLength, hasher.Complete());

        Directory.CreateDirectory(_layout.Uploads);
        var temp = Path.Combine(_layout.Uploads, $"{Guid.NewGuid():N}.manifest.tmp");
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, content.Length))
            {
                await RandomAccess.WriteAsync(handle, content, 0, cancellationToken).ConfigureAwait(false);
                RandomAccess.FlushToDisk(handle);
            }

            await CommitAsync(temp, digest, metaInfo, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DurableFiles.TryDelete(temp);
        }

        return digest;
    }

    /// <summary>
    /// The metainfo of a stored blob, or null if the blob is absent. Missing or unreadable metainfo
    /// (a crash between the two renames, a damaged disk) is recomputed from the blob once and persisted.
    /// </summary>
    public async Task<MetaInfo?> GetMetaInfoAsync(Digest digest, CancellationToken cancellationToken)
    {
        if (!TryGetLength(digest, out var length))
        {
            return null;
        }

        var path = _layout.BlobMetaInfo(digest);
        try
        {
            var encoded = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            var metaInfo = MetaInfo.Decode(encoded);
            if (metaInfo.Digest == digest && metaInfo.Length == length && metaInfo.PieceLength == PieceLength.For(length))
            {
                return metaInfo;
            }

            OriginLog.MetaInfoCorrupt(_logger, digest.Value, new InvalidDataException("metainfo does not describe this blob"));
        }
        catch (FileNotFoundException)
        {
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (FormatException ex)
        {
            OriginLog.MetaInfoCorrupt(_logger, digest.Value, ex);
        }

        var lazy = _computing.GetOrAdd(digest, d => new Lazy<Task<MetaInfo>>(() => RecomputeAsync(d, "missing metainfo")));
        try
        {
            // The computation is shared, so one caller giving up must not cancel it for the others.
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompleted)
            {
                _computing.TryRemove(new KeyValuePair<Digest, Lazy<Task<MetaInfo>>>(digest, lazy));
            }
        }
    }

    /// <summary>Hashes the pieces of a file in one sequential read (counted: the streaming path avoids it).</summary>
    public async Task<MetaInfo> HashFileAsync(string path, Digest digest, long length, string reason, CancellationToken cancellationToken)
    {
        _metrics.MetaInfoRehash();
        OriginLog.MetaInfoRehashed(_logger, digest.Value, reason);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        return await MetaInfo.ComputeAsync(digest, stream, length, cancellationToken).ConfigureAwait(false);
    }

    private async Task<MetaInfo> RecomputeAsync(Digest digest, string reason)
    {
        if (!TryGetLength(digest, out var length))
        {
            throw new FileNotFoundException($"Blob {digest} vanished while its metainfo was computed.");
        }

        var metaInfo = await HashFileAsync(_layout.BlobData(digest), digest, length, reason, CancellationToken.None).ConfigureAwait(false);
        try
        {
            await DurableFiles.WriteAtomicallyAsync(_layout.BlobMetaInfo(digest), metaInfo.Encoded, CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException ex) when (_storageFull.IsFull(ex))
        {
            // The blob is served all the same: a read must not fail for want of space to cache what it computed
            // (the temp file went with the failure; the next read computes it again and tries to keep it).
            _storageFull.Report("metainfo", ex);
        }

        return metaInfo;
    }
}

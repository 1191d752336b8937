using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Core.Content;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Agent.Cache;

/// <summary>
/// Re-verifies the blobs a restarted agent finds in its cache before any byte of them is served or seeded: a crash,
/// a bad sector or a stray write may have changed them under their digest. Three ways, whichever comes first: a read
/// over HTTP checks each piece against the MetaInfo on its first read (<see cref="ReadPiece"/>); the seed's swarm does
/// the same for peers (<see cref="SwarmOptions.VerifySeedsOnFirstRead"/>, reported through
/// <see cref="SwarmEngine.SeedCorrupted"/>); and a background pass hashes each blob whole (sha256) one after another
/// (<see cref="RunAsync"/>). A blob that checks out whole is served with no check from then on; a corrupt one stops
/// being seeded and leaves the cache (log line and <c>p2pregistry.agent.cache_corrupt</c>), so the next request
/// fetches it again from peers or the origin. What was verified is known in memory only: every start checks again.
/// </summary>
internal sealed class CacheVerifier : IDisposable
{
    private const int HashChunk = 1024 * 1024;

    private readonly BlobCache _cache;
    private readonly MetaInfoShelf _shelf;
    private readonly SwarmEngine _engine;
    private readonly AgentMetrics _metrics;
    private readonly ILogger<CacheVerifier> _logger;
    private int _disposed;

    public CacheVerifier(BlobCache cache, MetaInfoShelf shelf, SwarmEngine engine, AgentMetrics metrics, ILogger<CacheVerifier> logger)
    {
        _cache = cache;
        _shelf = shelf;
        _engine = engine;
        _metrics = metrics;
        _logger = logger;
        _engine.SeedCorrupted += OnSeedCorrupted;
    }

    /// <summary>
    /// The piece checks of a leased blob not verified since this start (kept with the cache entry, shared by every
    /// reader); null when its MetaInfo is gone or damaged, and the blob cannot be checked piece by piece: then it is
    /// removed as if corrupt, and fetched again.
    /// </summary>
    public FirstReadVerifier? ChecksFor(BlobCache.Lease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (lease.Entry.Checks is { } checks)
        {
            return checks;
        }

        if (_shelf.TryLoad(lease.Digest) is not { } metaInfo || metaInfo.Length != lease.Length)
        {
            Remove(lease, "its MetaInfo is gone or does not fit it", "a read", infoHash: null);
            return null;
        }

        return lease.Entry.SetChecks(new FirstReadVerifier(metaInfo, lease.Path));
    }

    /// <summary>
    /// Reads the whole of <paramref name="piece"/> of a leased, unverified blob into <paramref name="destination"/> and
    /// checks it unless it was checked already. False when it does not match (or the file is short): the blob was
    /// removed from the cache and is no longer seeded. Once every piece matched, the blob counts as verified.
    /// </summary>
    public bool ReadPiece(BlobCache.Lease lease, FirstReadVerifier checks, SafeFileHandle file, int piece, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(checks);
        var metaInfo = checks.MetaInfo;
        var bytes = destination[..metaInfo.GetPieceSize(piece)];
        var offset = metaInfo.GetPieceOffset(piece);
        var total = 0;
        while (total < bytes.Length)
        {
            var read = RandomAccess.Read(file, bytes[total..], offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        if (checks.IsVerified(piece) && total == bytes.Length)
        {
            return true;
        }

        if (total != bytes.Length || !checks.Verify(piece, bytes, out _))
        {
            Remove(lease, $"piece {piece} does not match its SHA-1", "a read", metaInfo.InfoHash);
            return false;
        }

        if (checks.AllVerified)
        {
            _cache.MarkVerified(lease);
        }

        return true;
    }

    /// <summary>
    /// Hashes every cached blob not verified since this start, one after another, until all are or
    /// <paramref name="cancellationToken"/> fires: a match makes it verified, a mismatch removes it.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var checkedCount = 0;
        var removed = 0;
        foreach (var digest in _cache.Unverified())
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var lease = _cache.TryAcquire(digest);
            if (lease is null || lease.IsVerified)
            {
                continue;
            }

            bool matches;
            try
            {
                matches = await HashesToAsync(lease.Path, digest, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile (found corrupt by a read, and removed), or unreadable: a read will tell.
                continue;
            }

            checkedCount++;
            if (matches)
            {
                _cache.MarkVerified(lease);
            }
            else
            {
                removed++;
                Remove(lease, "it does not hash to its digest", "the background check", _shelf.TryLoad(digest)?.InfoHash);
            }
        }

        AgentLog.CacheReverified(_logger, checkedCount, removed);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _engine.SeedCorrupted -= OnSeedCorrupted;
        }
    }

    private static async Task<bool> HashesToAsync(string path, Digest digest, CancellationToken cancellationToken)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.SequentialScan);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(HashChunk);
        try
        {
            long offset = 0;
            int read;
            while ((read = await RandomAccess.ReadAsync(file, buffer.AsMemory(0, HashChunk), offset, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                offset += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        Span<byte> sha256 = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(sha256);
        return Digest.FromSha256(sha256) == digest;
    }

    /// <summary>The seed of a cached blob failed a piece's SHA-1 (the engine stops it): the blob leaves the cache.</summary>
    private void OnSeedCorrupted(SeedCorruption corruption)
    {
        if (corruption.Path != _cache.PathOf(corruption.Digest))
        {
            return;
        }

        using var lease = _cache.TryAcquire(corruption.Digest);
        if (lease is not null && !lease.IsVerified)
        {
            // The engine stops the swarm itself once this returns.
            Remove(lease, $"piece {corruption.Piece} does not match its SHA-1", "the seed", infoHash: null);
        }
    }

    /// <summary>
    /// A corrupt blob: no longer seeded (the engine forgets its swarm first, so a new download of it starts afresh), then
    /// out of the cache. Logged and counted once, by whoever removes it.
    /// </summary>
    private void Remove(BlobCache.Lease lease, string reason, string foundBy, Core.MetaInfos.InfoHash? infoHash)
    {
        if (infoHash is { } hash && _cache.IsCurrent(lease))
        {
            _shelf.Forget(lease.Digest, hash);
        }

        if (_cache.Remove(lease))
        {
            _metrics.CacheCorrupt();
            AgentLog.CachedBlobCorrupt(_logger, lease.Digest.Value, reason, foundBy);
        }
    }
}

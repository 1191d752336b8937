using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// The MetaInfo of every cached blob, kept beside the cache (<c>metainfo/&lt;hex&gt;</c>): a restarted agent seeds
/// its cached blobs again from them (and checks them against them: <see cref="CacheVerifier"/>), and a blob the
/// collector evicts stops being seeded and loses its MetaInfo (<see cref="ReleaseAsync"/>). A MetaInfo is written
/// atomically and durably before its blob enters the cache, so every cached blob has one after a crash. The info hash
/// of each kept MetaInfo is also held in memory, for the collector to find the blob's swarm.
/// </summary>
internal sealed class MetaInfoShelf : IDisposable
{
    private readonly SwarmEngine _engine;
    private readonly BlobCache _cache;
    private readonly ILogger<MetaInfoShelf> _logger;
    private readonly string _root;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Digest, InfoHash> _infoHashes = new();
    private int _disposed;

    public MetaInfoShelf(SwarmEngine engine, BlobCache cache, IOptions<AgentOptions> options, ILogger<MetaInfoShelf> logger)
    {
        _engine = engine;
        _cache = cache;
        _logger = logger;
        _root = Path.GetFullPath(options.Value.MetaInfoPath);
        Directory.CreateDirectory(_root);
    }

    /// <summary>The folder of the kept MetaInfos (<c>metainfo/&lt;hex&gt;</c>).</summary>
    public string Root => _root;

    /// <summary>Keeps the MetaInfo of a blob about to enter the cache (on the disk when this returns).</summary>
    public Task KeepAsync(MetaInfo metaInfo) => Task.Run(() =>
    {
        DurableFiles.WriteAtomically(PathOf(metaInfo.Digest), metaInfo.Encoded.Span);
        _infoHashes[metaInfo.Digest] = metaInfo.InfoHash;
    });

    /// <summary>The info hash of a cached blob's kept MetaInfo (its swarm), or null.</summary>
    public InfoHash? InfoHashOf(Digest digest) => _infoHashes.TryGetValue(digest, out var infoHash) ? infoHash : null;

    /// <summary>
    /// Seeds every cached blob whose MetaInfo was kept (after a restart); a MetaInfo without its blob, or damaged, goes,
    /// and so does a cached blob without a usable MetaInfo (it could be neither checked piece by piece nor seeded).
    /// </summary>
    public void SeedCachedBlobs()
    {
        var seeded = new HashSet<Digest>();
        foreach (var file in Directory.EnumerateFiles(_root))
        {
            if (!Digest.TryParse(Digest.Sha256Algorithm + ":" + Path.GetFileName(file), out var digest) || !_cache.Contains(digest))
            {
                File.Delete(file);
                continue;
            }

            if (TryLoad(digest) is { } metaInfo)
            {
                _engine.Seed(metaInfo, _cache.PathOf(digest));
                _infoHashes[digest] = metaInfo.InfoHash;
                seeded.Add(digest);
            }
            else
            {
                File.Delete(file);
            }
        }

        foreach (var digest in _cache.Unverified())
        {
            if (!seeded.Contains(digest) && _cache.Remove(digest))
            {
                AgentLog.CachedBlobWithoutMetaInfo(_logger, digest.Value);
            }
        }
    }

    /// <summary>The kept MetaInfo of <paramref name="digest"/>; null when there is none, or it is damaged or another blob's.</summary>
    public MetaInfo? TryLoad(Digest digest)
    {
        try
        {
            var metaInfo = MetaInfo.Decode(File.ReadAllBytes(PathOf(digest)));
            return metaInfo.Digest == digest ? metaInfo : null;
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Stops seeding <paramref name="infoHash"/> (the engine forgets the swarm before this returns, so a new download
    /// of the blob starts afresh) and drops the MetaInfo of <paramref name="digest"/>: its blob is leaving the cache.
    /// </summary>
    public void Forget(Digest digest, InfoHash infoHash)
    {
        _infoHashes.TryRemove(digest, out _);
        _ = _engine.StopAsync(infoHash);
        try
        {
            File.Delete(PathOf(digest));
        }
        catch (IOException)
        {
            // Removed at the next start, with no blob beside it.
        }
    }

    /// <summary>
    /// The blob of <paramref name="digest"/> was evicted: its swarm stops (announced stopped, connections and file
    /// closed, so its space is free when this returns) and its MetaInfo goes. Returns the MetaInfo's bytes removed.
    /// </summary>
    public async Task<long> ReleaseAsync(Digest digest)
    {
        var file = PathOf(digest);
        var infoHash = _infoHashes.TryRemove(digest, out var known) ? known : TryLoad(digest)?.InfoHash;
        long bytes = 0;
        try
        {
            bytes = new FileInfo(file).Length;
            File.Delete(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone already, or removed at the next start with no blob beside it.
            bytes = 0;
        }

        if (infoHash is { } hash && Volatile.Read(ref _disposed) == 0)
        {
            await _engine.StopAsync(hash).ConfigureAwait(false);
        }

        return bytes;
    }

    private string PathOf(Digest digest) => Path.Combine(_root, digest.Hex);

    /// <summary>Called at host stop (before the engine goes: a release then has no swarm to stop) and again by the container.</summary>
    public void Dispose() => Interlocked.Exchange(ref _disposed, 1);
}

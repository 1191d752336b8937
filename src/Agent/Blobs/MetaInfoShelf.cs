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
/// its cached blobs again from them (and checks them against them: <see cref="CacheVerifier"/>), and a blob the cache
/// evicts stops being seeded and loses its MetaInfo. A MetaInfo is written atomically and durably before its blob
/// enters the cache, so every cached blob has one after a crash.
/// </summary>
internal sealed class MetaInfoShelf : IDisposable
{
    private readonly SwarmEngine _engine;
    private readonly BlobCache _cache;
    private readonly ILogger<MetaInfoShelf> _logger;
    private readonly string _root;
    private int _disposed;

    public MetaInfoShelf(SwarmEngine engine, BlobCache cache, IOptions<AgentOptions> options, ILogger<MetaInfoShelf> logger)
    {
        _engine = engine;
        _cache = cache;
        _logger = logger;
        _root = Path.Combine(Path.GetFullPath(options.Value.DataPath), "metainfo");
        Directory.CreateDirectory(_root);
        _cache.Evicted += OnEvicted;
    }

    /// <summary>Keeps the MetaInfo of a blob about to enter the cache (on the disk when this returns).</summary>
    public Task KeepAsync(MetaInfo metaInfo) => Task.Run(() => DurableFiles.WriteAtomically(PathOf(metaInfo.Digest), metaInfo.Encoded.Span));

    /// <summary>Drops the kept MetaInfo of a blob that did not make it into the cache after all.</summary>
    public void Discard(Digest digest)
    {
        if (!_cache.Contains(digest))
        {
            DurableFiles.TryDelete(PathOf(digest));
        }
    }

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

    private string PathOf(Digest digest) => Path.Combine(_root, digest.Hex);

    private void OnEvicted(Digest digest)
    {
        AgentLog.Evicted(_logger, digest.Value);
        var file = PathOf(digest);
        try
        {
            var metaInfo = MetaInfo.Decode(File.ReadAllBytes(file));
            File.Delete(file);
            _ = _engine.StopAsync(metaInfo.InfoHash);
        }
        catch (Exception ex) when (ex is FormatException or IOException)
        {
        }
    }

    /// <summary>Called at host stop (before the engine goes: an eviction then has no swarm to stop) and again by the container.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _cache.Evicted -= OnEvicted;
        }
    }
}

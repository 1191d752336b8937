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
/// atomically and durably before its blob enters the cache, so every cached blob has one after a crash. It also knows
/// which blob each seeded info hash is and back (about 200 bytes a blob), so the engine can reopen a cached blob's
/// closed swarm when a peer asks for it (<see cref="Resolve"/>, the engine's <see cref="SwarmEngine.SeedResolver"/>)
/// and the collector can find the swarm of a blob it evicts.
/// </summary>
internal sealed class MetaInfoShelf : IDisposable
{
    private readonly SwarmEngine _engine;
    private readonly BlobCache _cache;
    private readonly ILogger<MetaInfoShelf> _logger;
    private readonly string _root;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Digest, InfoHash> _infoHashes = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<InfoHash, Digest> _seeded = new();
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
    public async Task KeepAsync(MetaInfo metaInfo)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        await Task.Run(() => DurableFiles.WriteAtomically(PathOf(metaInfo.Digest), metaInfo.Encoded.Span)).ConfigureAwait(false);
        _infoHashes[metaInfo.Digest] = metaInfo.InfoHash;
        _seeded[metaInfo.InfoHash] = metaInfo.Digest;
    }

    /// <summary>The info hash of a cached blob's kept MetaInfo (its swarm), or null.</summary>
    public InfoHash? InfoHashOf(Digest digest) => _infoHashes.TryGetValue(digest, out var infoHash) ? infoHash : null;

    /// <summary>Drops the kept MetaInfo of a blob that did not make it into the cache after all.</summary>
    public void Discard(Digest digest)
    {
        if (!_cache.Contains(digest))
        {
            DurableFiles.TryDelete(PathOf(digest));
        }
    }

    /// <summary>
    /// The cached blob a peer handshakes for, to seed (its swarm was closed while idle, or never opened since the start);
    /// null when it is no longer cached or its MetaInfo is gone. Reads the MetaInfo from the disk: only the digest is kept.
    /// </summary>
    public SeedSource? Resolve(InfoHash infoHash)
    {
        if (!_seeded.TryGetValue(infoHash, out var digest))
        {
            return null;
        }

        if (_cache.Contains(digest) && TryLoad(digest) is { } metaInfo && metaInfo.InfoHash == infoHash)
        {
            return new SeedSource(metaInfo, _cache.PathOf(digest));
        }

        _seeded.TryRemove(new KeyValuePair<InfoHash, Digest>(infoHash, digest));
        return null;
    }

    /// <summary>
    /// Seeds every cached blob whose MetaInfo was kept (after a restart) without opening it: the engine announces each
    /// (spread out) and opens its swarm when a peer asks (<see cref="Resolve"/>). A MetaInfo without its blob, or damaged,
    /// goes, and so does a cached blob without a usable MetaInfo (it could be neither checked piece by piece nor seeded).
    /// </summary>
    public void SeedCachedBlobs()
    {
        var seeded = new HashSet<Digest>();
        var blobs = new List<(InfoHash, Digest)>();
        foreach (var file in Directory.EnumerateFiles(_root))
        {
            if (!Digest.TryParse(Digest.Sha256Algorithm + ":" + Path.GetFileName(file), out var digest) || !_cache.Contains(digest))
            {
                File.Delete(file);
                continue;
            }

            if (TryLoad(digest) is { } metaInfo)
            {
                _seeded[metaInfo.InfoHash] = digest;
                _infoHashes[digest] = metaInfo.InfoHash;
                blobs.Add((metaInfo.InfoHash, digest));
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

        _engine.SeedOnDemand(blobs);
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
        _seeded.TryRemove(new KeyValuePair<InfoHash, Digest>(infoHash, digest));
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
        if (infoHash is { } seededHash)
        {
            _seeded.TryRemove(new KeyValuePair<InfoHash, Digest>(seededHash, digest));
        }

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

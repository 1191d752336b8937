using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// The MetaInfo of every cached blob, kept beside the cache (<c>metainfo/&lt;hex&gt;</c>): a restarted agent seeds
/// its cached blobs again from them, and a blob the cache evicts stops being seeded and loses its MetaInfo.
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

    /// <summary>Keeps the MetaInfo of a blob about to enter the cache.</summary>
    public Task KeepAsync(MetaInfo metaInfo) => File.WriteAllBytesAsync(PathOf(metaInfo.Digest), metaInfo.Encoded.ToArray());

    /// <summary>Seeds every cached blob whose MetaInfo was kept (after a restart); a MetaInfo without its blob, or damaged, goes.</summary>
    public void SeedCachedBlobs()
    {
        foreach (var file in Directory.EnumerateFiles(_root))
        {
            if (!Digest.TryParse(Digest.Sha256Algorithm + ":" + Path.GetFileName(file), out var digest) || !_cache.Contains(digest))
            {
                File.Delete(file);
                continue;
            }

            try
            {
                var metaInfo = MetaInfo.Decode(File.ReadAllBytes(file));
                if (metaInfo.Digest == digest)
                {
                    _engine.Seed(metaInfo, _cache.PathOf(digest));
                }
            }
            catch (Exception ex) when (ex is FormatException or IOException)
            {
                File.Delete(file);
            }
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

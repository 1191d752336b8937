using System.Collections.Concurrent;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Collection;

/// <summary>
/// When each pulled-through manifest was last served, for the <c>Origin:PullThroughCacheBytes</c> quota (least recently
/// used goes first). Cheap on the request path: one dictionary write. Each collection pass first persists the uses it
/// holds as the modification time of the manifest's revision link (set explicitly), which is what the pass then reads:
/// a restart loses at most the uses since the last pass.
/// </summary>
internal sealed class PullThroughUsage
{
    /// <summary>Distinct manifests remembered between passes; beyond it a use is persisted at once.</summary>
    public const int MaxPending = 100_000;

    private readonly ConcurrentDictionary<(string Repository, Digest Digest), DateTimeOffset> _pending = new();
    private readonly StorageLayout _layout;
    private readonly TimeProvider _time;

    public PullThroughUsage(StorageLayout layout, TimeProvider time)
    {
        _layout = layout;
        _time = time;
    }

    public void Used(string repository, Digest digest)
    {
        var now = _time.GetUtcNow();
        if (_pending.Count >= MaxPending && !_pending.ContainsKey((repository, digest)))
        {
            Persist(repository, digest, now);
            return;
        }

        _pending[(repository, digest)] = now;
    }

    /// <summary>Writes the remembered uses to the revision links' modification times.</summary>
    public void Flush()
    {
        foreach (var (key, at) in _pending)
        {
            Persist(key.Repository, key.Digest, at);
            _pending.TryRemove(new KeyValuePair<(string, Digest), DateTimeOffset>(key, at));
        }
    }

    private void Persist(string repository, Digest digest, DateTimeOffset at)
    {
        try
        {
            File.SetLastWriteTimeUtc(_layout.ManifestRevisionLink(repository, digest), at.UtcDateTime);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // Evicted or deleted since it was served.
        }
    }
}

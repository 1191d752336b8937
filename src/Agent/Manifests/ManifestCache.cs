using System.Collections.Concurrent;
using System.Text;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Core.Content;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Agent.Manifests;

/// <summary>
/// Manifests by digest on disk (<c>&lt;root&gt;/sha256/&lt;hex&gt;</c> and its media type in <c>&lt;hex&gt;.type</c>).
/// Content addressed, so an entry never goes stale; only digests that were verified are written. Each hit is a use:
/// kept in memory, then persisted by the collector as the content file's modification time (content addressed, never
/// written again); the media type file keeps the time the manifest was written.
/// </summary>
internal sealed class ManifestCache
{
    private const string TypeSuffix = ".type";
    private readonly string _root;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<Digest, DateTimeOffset> _uses = new();

    // Put (type, then content) and Remove (content, then type) each under it: interleaved, they left a content file
    // without its type file.
    private readonly Lock _writeLock = new();

    public ManifestCache(string root, TimeProvider? time = null)
    {
        _root = Path.Combine(Path.GetFullPath(root), Digest.Sha256Algorithm);
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(_root);
    }

    public Manifest? TryGet(Digest digest)
    {
        var path = Path.Combine(_root, digest.Hex);
        try
        {
            var mediaType = File.ReadAllText(path + TypeSuffix, Encoding.UTF8);
            var content = File.ReadAllBytes(path);

            // A torn or tampered file is a miss, never served.
            if (Digest.Compute(content) != digest || mediaType.Length == 0)
            {
                return null;
            }

            _uses[digest] = _time.GetUtcNow();
            return new Manifest(content, mediaType, digest);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public void Put(Manifest manifest)
    {
        lock (_writeLock)
        {
            PutLocked(manifest);
        }
    }

    private void PutLocked(Manifest manifest)
    {
        var path = Path.Combine(_root, manifest.Digest.Hex);
        if (File.Exists(path) && File.Exists(path + TypeSuffix))
        {
            // Resolved by tag again (the origin answered): a use of the copy kept here.
            _uses[manifest.Digest] = _time.GetUtcNow();
            return;
        }

        // Type first, then the content, each replaced atomically: TryGet needs both. A write that fails (a full disk)
        // leaves neither: its temp file is gone, and so is a type file without its content.
        var typeExisted = File.Exists(path + TypeSuffix);
        DurableFiles.WriteAtomically(path + TypeSuffix, Encoding.UTF8.GetBytes(manifest.MediaType), uniqueTemp: true);
        try
        {
            DurableFiles.WriteAtomically(path, manifest.Content.Span, uniqueTemp: true);
        }
        catch when (!typeExisted)
        {
            DurableFiles.TryDelete(path + TypeSuffix);
            throw;
        }
    }

    /// <summary>Every cached manifest as a collector item: both files' bytes, its last use, when it was written.</summary>
    public List<GcItem> List()
    {
        // Every content file, with or without its type file: a lone one (a crash between the two writes) is a candidate
        // too, else it would count in the usage for good.
        var items = new List<GcItem>();
        foreach (var content in new DirectoryInfo(_root).EnumerateFiles())
        {
            if (content.Name.Length != 64 || !Digest.TryParse(Digest.Sha256Algorithm + ":" + content.Name, out var digest))
            {
                continue;
            }

            var type = new FileInfo(content.FullName + TypeSuffix);
            var written = new DateTimeOffset(type.Exists ? type.LastWriteTimeUtc : content.LastWriteTimeUtc, TimeSpan.Zero);
            var lastUsed = new DateTimeOffset(content.LastWriteTimeUtc, TimeSpan.Zero);
            if (_uses.TryGetValue(digest, out var used) && used > lastUsed)
            {
                lastUsed = used;
            }

            items.Add(new GcItem(GcItemKind.Manifest, digest, content.Length + (type.Exists ? type.Length : 0), lastUsed, written, Pinned: false));
        }

        return items;
    }

    /// <summary>
    /// Removes a manifest unless it was used after <paramref name="lastUsedSeen"/>; the content first, so a reader in
    /// between finds a miss. Returns the bytes removed.
    /// </summary>
    public long Remove(Digest digest, DateTimeOffset lastUsedSeen)
    {
        lock (_writeLock)
        {
            return RemoveLocked(digest, lastUsedSeen);
        }
    }

    private long RemoveLocked(Digest digest, DateTimeOffset lastUsedSeen)
    {
        if (_uses.TryGetValue(digest, out var used) && used > lastUsedSeen)
        {
            return 0;
        }

        var path = Path.Combine(_root, digest.Hex);
        var removed = 0L;
        foreach (var file in new[] { path, path + TypeSuffix })
        {
            var info = new FileInfo(file);
            if (info.Exists)
            {
                removed += info.Length;
                info.Delete();
            }
        }

        _uses.TryRemove(digest, out _);
        return removed;
    }

    /// <summary>Writes each use held in memory as its content file's modification time.</summary>
    public void PersistLastUse()
    {
        foreach (var (digest, used) in _uses)
        {
            try
            {
                File.SetLastWriteTimeUtc(Path.Combine(_root, digest.Hex), used.UtcDateTime);
                _uses.TryRemove(new KeyValuePair<Digest, DateTimeOffset>(digest, used));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _uses.TryRemove(digest, out _);
            }
        }
    }
}

using System.Diagnostics;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Collection;

/// <summary>
/// One mark-and-sweep pass over the store, online. Mark (<see cref="ReachabilityMarker"/>): every manifest revision
/// and tag of every repository is a root — an untagged revision stays until DELETE removes it, as registries keep
/// untagged digests. Quota (<c>Origin:PullThroughCacheBytes</c>): pulled-through revisions, most recently served
/// first, keep their content while its total stays within the quota; the rest are evicted (revision and tags). Sweep:
/// a blob no root reaches goes — data, metainfo and every repository's layer link to it — when it is older than
/// <c>Origin:Gc:GracePeriod</c> (age = its folder, data, metainfo or newest link, whichever was written last) or
/// it was content of an evicted pulled-through revision that only pulled-through repositories link; and only through <see cref="CollectionGate.TryRemove"/>, so a push
/// linking it meanwhile wins (the argument is on <see cref="CollectionGate"/>). Removing a file that a seed or a
/// download has open is safe on Linux: the open handle keeps reading the unlinked bytes.
/// </summary>
internal sealed class GarbageCollector
{
    private readonly StorageLayout _layout;
    private readonly CollectionGate _gate;
    private readonly PullThroughUsage? _usage;
    private readonly Func<string, bool> _isPulledThrough;
    private readonly TimeSpan _grace;
    private readonly long _quota;
    private readonly long _maxManifestBytes;
    private readonly TimeProvider _time;

    public GarbageCollector(StorageLayout layout, CollectionGate gate, PullThroughUsage? usage, Func<string, bool> isPulledThrough,
        TimeSpan grace, long pullThroughQuota, long maxManifestBytes, TimeProvider time)
    {
        _layout = layout;
        _gate = gate;
        _usage = usage;
        _isPulledThrough = isPulledThrough;
        _grace = grace;
        _quota = pullThroughQuota;
        _maxManifestBytes = maxManifestBytes;
        _time = time;
    }

    /// <summary>Raised for each blob removed (its data, metainfo and folder gone), on the pass's thread.</summary>
    public event Action<Digest>? BlobRemoved;

    /// <summary>Raised for each manifest marked conservatively (corrupt, unknown media type).</summary>
    public event Action<DoubtfulManifest>? Doubt;

    /// <summary>Raised on the pass's thread once the inventory is read, before anything is marked or removed (a test seam: races with writers).</summary>
    internal event Action? InventoryTaken;

    public GcReport Run(bool dryRun, CancellationToken cancellationToken)
    {
        var passStart = _gate.BeginPass();
        try
        {
            return Run(dryRun, passStart, cancellationToken);
        }
        finally
        {
            _gate.EndPass();
        }
    }

    private GcReport Run(bool dryRun, long passStart, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (!dryRun)
        {
            _usage?.Flush();
        }

        var now = _time.GetUtcNow().UtcDateTime;
        var inventory = StorageInventory.Read(_layout, _isPulledThrough, cancellationToken);
        InventoryTaken?.Invoke();
        var report = new GcReport { DryRun = dryRun, BlobsSeen = inventory.Blobs.Count };
        var manifests = new Dictionary<Digest, ReadOnlyMemory<byte>?>();
        ReadOnlyMemory<byte>? Read(Digest digest)
        {
            if (!manifests.TryGetValue(digest, out var content))
            {
                manifests[digest] = content = ReadManifest(digest);
            }

            return content;
        }

        IEnumerable<Digest> ReferrersOf(Digest subject) => inventory.Referrers.TryGetValue(subject, out var list) ? list : [];

        var revisions = new HashSet<(string, Digest)>(inventory.Roots.Where(r => !r.Tag).Select(r => (r.Repository, r.Digest)));
        // Quota candidates: pulled-through revisions. Everything else — pushed roots, and a pulled-through tag whose revision is gone — is kept.
        var pulled = _quota > 0 ? inventory.Roots.Where(r => r.PulledThrough && !r.Tag).ToList() : [];
        var kept = inventory.Roots.Where(r => !(_quota > 0 && r.PulledThrough && (!r.Tag || revisions.Contains((r.Repository, r.Digest))))).Select(r => r.Digest);
        var mark = ReachabilityMarker.Mark(kept, Read, ReferrersOf);
        var reachable = mark.Reachable;
        var doubtful = mark.Doubtful;

        long pullThroughBytes = 0;
        var evict = new List<ManifestRoot>();
        if (_quota > 0)
        {
            var over = false;
            foreach (var root in pulled.OrderByDescending(r => r.LastUsedUtc).ThenBy(r => r.Repository, StringComparer.Ordinal))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (over)
                {
                    evict.Add(root);
                    continue;
                }

                var closure = ReachabilityMarker.Mark([root.Digest], Read, ReferrersOf);
                long added = 0;
                foreach (var digest in closure.Reachable)
                {
                    if (!reachable.Contains(digest) && inventory.Blobs.TryGetValue(digest, out var blob))
                    {
                        added += blob.Size;
                    }
                }

                if (pullThroughBytes + added > _quota)
                {
                    // Least recently used first: this one and every older one go, even if a smaller older one would fit.
                    over = true;
                    evict.Add(root);
                    continue;
                }

                pullThroughBytes += added;
                reachable.UnionWith(closure.Reachable);
                doubtful.AddRange(closure.Doubtful);
            }
        }

        report.Manifests = manifests.Count;
        report.PullThroughBytes = pullThroughBytes;
        foreach (var doubt in doubtful.DistinctBy(d => d.Digest))
        {
            report.Doubtful++;
            Doubt?.Invoke(doubt);
        }

        // What the evicted revisions reached: pulled-through content evicted by the quota does not wait for the grace period.
        var evicted = evict.Count == 0 ? [] : ReachabilityMarker.Mark(evict.Select(e => e.Digest), Read, ReferrersOf).Reachable;
        foreach (var root in evict)
        {
            // A revision also reachable otherwise (an index kept, the same digest pushed) loses only this repository's link.
            if (dryRun || _gate.TryRemove(root.Digest, passStart, () => DeleteRevision(root.Repository, root.Digest)))
            {
                report.Evicted.Add((root.Repository, root.Digest));
            }
            else
            {
                // Served again while the pass ran: it stays, and so does what it references.
                reachable.UnionWith(ReachabilityMarker.Mark([root.Digest], Read, ReferrersOf).Reachable);
            }
        }

        foreach (var blob in inventory.Blobs.Values.OrderBy(b => b.Digest.Hex, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (reachable.Contains(blob.Digest))
            {
                continue;
            }

            report.Unreferenced.Add(blob.Digest);
            var links = inventory.Links.GetValueOrDefault(blob.Digest) ?? [];
            var written = blob.WrittenUtc;
            foreach (var link in links)
            {
                if (link.WrittenUtc > written && !(link.Revision && evict.Any(e => e.Digest == blob.Digest && e.Repository == link.Repository)))
                {
                    written = link.WrittenUtc;
                }
            }

            var evictedPulledOnly = evicted.Contains(blob.Digest) && links.Count > 0 && links.TrueForAll(l => l.PulledThrough);
            if (!evictedPulledOnly && now - written < _grace)
            {
                report.Deferred++;
                continue;
            }

            if (dryRun)
            {
                report.Removed.Add((blob.Digest, blob.Size));
                continue;
            }

            if (_gate.TryRemove(blob.Digest, passStart, () => Remove(blob.Digest, links)))
            {
                report.Removed.Add((blob.Digest, blob.Size));
            }
            else
            {
                report.Deferred++;
            }
        }

        report.Duration = Stopwatch.GetElapsedTime(started);
        return report;
    }

    /// <summary>A stored blob small enough to be a manifest, or null (absent, or too large: kept but not read).</summary>
    private ReadOnlyMemory<byte>? ReadManifest(Digest digest)
    {
        var path = _layout.BlobData(digest);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > _maxManifestBytes)
            {
                return null;
            }

            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Data first (the seed index and readers test for it), then metainfo, the folder, and the links to it.</summary>
    private void Remove(Digest digest, List<BlobLink> links)
    {
        TryDelete(_layout.BlobData(digest));
        TryDelete(_layout.BlobMetaInfo(digest));
        TryDeleteDirectory(_layout.BlobDirectory(digest));
        BlobRemoved?.Invoke(digest);
        foreach (var link in links)
        {
            if (!link.Revision)
            {
                TryDeleteDirectory(Path.GetDirectoryName(_layout.LayerLink(link.Repository, digest))!);
            }
        }
    }

    /// <summary>Evicts a pulled-through revision: its link and the tags that name it.</summary>
    private void DeleteRevision(string repository, Digest digest)
    {
        TryDeleteDirectory(Path.GetDirectoryName(_layout.ManifestRevisionLink(repository, digest))!);
        var tags = new DirectoryInfo(_layout.TagsDirectory(repository));
        if (!tags.Exists)
        {
            return;
        }

        foreach (var tag in tags.EnumerateDirectories())
        {
            try
            {
                if (Digest.TryParse(File.ReadAllText(_layout.TagLink(repository, tag.Name)).Trim(), out var target) && target == digest)
                {
                    TryDeleteDirectory(tag.FullName);
                }
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

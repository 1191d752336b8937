using P2PRegistry.Core.Content;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Agent.Cache;

/// <summary>
/// The agent's store of complete, verified blobs: <c>&lt;root&gt;/sha256/&lt;hex&gt;</c>. Bounded by a capacity
/// with high/low watermarks, like the kubelet's image GC: when an admission takes the total above the high
/// mark, least recently used blobs are evicted until it is below the low mark. A blob that is being read
/// (a lease is open) is never evicted; nor is the blob just admitted.
/// </summary>
/// <remarks>
/// Durability and trust: a blob is flushed to the disk before its rename into the cache, and the rename is flushed
/// too. Whether a blob was verified is known only in memory and only since this start: a blob admitted now was (its
/// pieces and its sha256 were checked as it downloaded), a blob found on disk at start is not until
/// <see cref="CacheVerifier"/> has checked it (piece by piece as it is read, its sha256 in the background).
/// </remarks>
public sealed class BlobCache
{
    private readonly string _root;
    private readonly long _high;
    private readonly long _low;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<Digest, Entry> _entries = [];
    private long _totalBytes;

    public BlobCache(string root, long capacityBytes, double highWatermark, double lowWatermark, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 1);
        if (!(lowWatermark > 0 && lowWatermark <= highWatermark && highWatermark <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(highWatermark), "Watermarks must satisfy 0 < low ≤ high ≤ 1.");
        }

        _root = Path.GetFullPath(root);
        _high = (long)(capacityBytes * highWatermark);
        _low = (long)(capacityBytes * lowWatermark);
        _time = time;
        Directory.CreateDirectory(Path.Combine(_root, Digest.Sha256Algorithm));
        Load();
    }

    /// <summary>Raised (outside the lock) for every evicted blob, so the swarm stops seeding it.</summary>
    public event Action<Digest>? Evicted;

    public long TotalBytes
    {
        get
        {
            lock (_lock)
            {
                return _totalBytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public string PathOf(Digest digest) => Path.Combine(_root, Digest.Sha256Algorithm, digest.Hex);

    public bool Contains(Digest digest)
    {
        lock (_lock)
        {
            return _entries.ContainsKey(digest);
        }
    }

    /// <summary>
    /// Opens a cached blob for reading; the blob cannot be evicted until the lease is disposed.
    /// Returns null on a miss.
    /// </summary>
    public Lease? TryAcquire(Digest digest)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(digest, out var entry))
            {
                return null;
            }

            entry.Readers++;
            entry.LastUsed = _time.GetUtcNow();
            return new Lease(this, digest, PathOf(digest), entry);
        }
    }

    /// <summary>The cached blobs not verified since this start (found on disk at start and not checked yet).</summary>
    public List<Digest> Unverified()
    {
        lock (_lock)
        {
            return [.. _entries.Where(e => !e.Value.Verified).Select(e => e.Key)];
        }
    }

    /// <summary>The leased blob checked out whole since this start: from now on it is served with no check.</summary>
    public void MarkVerified(Lease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        lease.Entry.Verified = true;
        lease.Entry.ClearChecks();
    }

    /// <summary>True while the leased blob is still the cached one (not removed, nor replaced by a new copy).</summary>
    public bool IsCurrent(Lease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        lock (_lock)
        {
            return _entries.TryGetValue(lease.Digest, out var entry) && entry == lease.Entry;
        }
    }

    /// <summary>
    /// Removes the leased blob (found corrupt), unless it was replaced meanwhile: a good copy admitted since stays.
    /// Open leases keep their handles. Returns true when removed.
    /// </summary>
    public bool Remove(Lease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        lock (_lock)
        {
            if (!_entries.TryGetValue(lease.Digest, out var entry) || entry != lease.Entry)
            {
                return false;
            }

            _entries.Remove(lease.Digest);
            _totalBytes -= entry.Length;
            File.Delete(PathOf(lease.Digest));
            return true;
        }
    }

    /// <summary>
    /// Moves a complete, already verified file into the cache (a rename on the same file system), then evicts
    /// down to the low watermark if the high one is passed. An existing copy wins and the source is deleted. The file
    /// is flushed to the disk before the rename and the cache's folder after it: a crash never leaves a cached name
    /// over bytes that were not on the disk.
    /// </summary>
    public void Admit(Digest digest, string verifiedFile)
    {
        var length = new FileInfo(verifiedFile).Length;
        var target = PathOf(digest);
        DurableFiles.Flush(verifiedFile);
        List<Digest> evicted;
        lock (_lock)
        {
            if (_entries.TryGetValue(digest, out var existing))
            {
                existing.LastUsed = _time.GetUtcNow();
                File.Delete(verifiedFile);
                return;
            }

            try
            {
                File.Move(verifiedFile, target, overwrite: true);
            }
            catch
            {
                // A cache on another file system makes the move a copy: one that failed (a full disk) leaves no part.
                DurableFiles.TryDelete(target);
                throw;
            }

            _entries[digest] = new Entry(length, _time.GetUtcNow()) { Verified = true };
            _totalBytes += length;
            evicted = EvictIfNeeded(keep: digest);
        }

        DurableFiles.FlushDirectory(Path.GetDirectoryName(target)!);
        RaiseEvicted(evicted);
    }

    /// <summary>Removes a blob (e.g. found corrupt on read). Waits for no reader: an open lease keeps its handle.</summary>
    public bool Remove(Digest digest)
    {
        lock (_lock)
        {
            if (!_entries.Remove(digest, out var entry))
            {
                return false;
            }

            _totalBytes -= entry.Length;
            File.Delete(PathOf(digest));
            return true;
        }
    }

    private List<Digest> EvictIfNeeded(Digest keep)
    {
        var evicted = new List<Digest>();
        if (_totalBytes <= _high)
        {
            return evicted;
        }

        foreach (var (digest, entry) in _entries.OrderBy(e => e.Value.LastUsed).ToList())
        {
            if (_totalBytes <= _low)
            {
                break;
            }

            if (entry.Readers > 0 || digest == keep)
            {
                continue;
            }

            _entries.Remove(digest);
            _totalBytes -= entry.Length;
            File.Delete(PathOf(digest));
            evicted.Add(digest);
        }

        return evicted;
    }

    private void Release(Entry entry)
    {
        lock (_lock)
        {
            // The entry the lease pinned, even if it was removed and the blob admitted again meanwhile.
            entry.Readers--;
        }
    }

    private void RaiseEvicted(List<Digest> evicted)
    {
        foreach (var digest in evicted)
        {
            Evicted?.Invoke(digest);
        }
    }

    private void Load()
    {
        // Only files named by a valid digest count; anything else (a stray temp file) is removed.
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_root, Digest.Sha256Algorithm)))
        {
            var name = Path.GetFileName(file);
            if (!Digest.TryParse(Digest.Sha256Algorithm + ":" + name, out var digest))
            {
                File.Delete(file);
                continue;
            }

            var info = new FileInfo(file);
            _entries[digest] = new Entry(info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
            _totalBytes += info.Length;
        }
    }

    internal sealed class Entry(long length, DateTimeOffset lastUsed)
    {
        private volatile bool _verified;

        public long Length { get; } = length;

        public DateTimeOffset LastUsed { get; set; } = lastUsed;

        public int Readers { get; set; }

        /// <summary>Checked whole since this start (admitted now, or re-verified): served with no check.</summary>
        public bool Verified
        {
            get => _verified;
            set => _verified = value;
        }

        private FirstReadVerifier? _checks;

        /// <summary>The pieces checked since this start, while not <see cref="Verified"/> (kept by <see cref="CacheVerifier"/>).</summary>
        public FirstReadVerifier? Checks => Volatile.Read(ref _checks);

        /// <summary>Sets <see cref="Checks"/> unless another reader did first; returns the one kept.</summary>
        public FirstReadVerifier SetChecks(FirstReadVerifier checks) => Interlocked.CompareExchange(ref _checks, checks, null) ?? checks;

        public void ClearChecks() => Volatile.Write(ref _checks, null);
    }

    /// <summary>A pin on a cached blob; dispose when done reading.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly BlobCache _cache;
        private int _disposed;

        internal Lease(BlobCache cache, Digest digest, string path, Entry entry)
        {
            _cache = cache;
            Digest = digest;
            Path = path;
            Entry = entry;
        }

        public Digest Digest { get; }

        public string Path { get; }

        public long Length => Entry.Length;

        /// <summary>Checked whole since this start: served with no check (the fast path).</summary>
        public bool IsVerified => Entry.Verified;

        internal Entry Entry { get; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _cache.Release(Entry);
            }
        }
    }
}

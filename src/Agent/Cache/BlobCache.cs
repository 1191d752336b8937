using P2PRegistry.Core.Content;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Agent.Cache;

/// <summary>
/// The agent's store of complete, verified blobs: <c>&lt;root&gt;/sha256/&lt;hex&gt;</c>, with when each was last used
/// (read, served or seeded). <see cref="DiskCollector"/> decides what goes; a blob that is being read (a lease is open)
/// is never evicted. The last use is kept in memory and persisted as the blob's modification time (a cached blob is
/// never written again, so its mtime is free to record that), which a restart reads back.
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
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<Digest, Entry> _entries = [];
    private long _totalBytes;

    public BlobCache(string root, TimeProvider time)
    {
        _root = Path.GetFullPath(root);
        _time = time;
        Directory.CreateDirectory(Path.Combine(_root, Digest.Sha256Algorithm));
        Load();
    }

    /// <summary>Raised (outside the lock) after a blob entered the cache, so the collector checks the usage.</summary>
    public event Action<Digest>? Admitted;

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
    /// Moves a complete, already verified file into the cache (a rename on the same file system); the collector is told
    /// (<see cref="Admitted"/>). An existing copy wins and the source is deleted. The file
    /// is flushed to the disk before the rename and the cache's folder after it: a crash never leaves a cached name
    /// over bytes that were not on the disk.
    /// </summary>
    public void Admit(Digest digest, string verifiedFile)
    {
        var length = new FileInfo(verifiedFile).Length;
        var target = PathOf(digest);
        DurableFiles.Flush(verifiedFile);
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

            var now = _time.GetUtcNow();
            _entries[digest] = new Entry(length, now, now) { Verified = true, PersistedLastUse = DateTimeOffset.MinValue };
            _totalBytes += length;
        }

        DurableFiles.FlushDirectory(Path.GetDirectoryName(target)!);
        Admitted?.Invoke(digest);
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

    /// <summary>Every cached blob as the collector sees it: size, last use, when it entered, whether a lease is open.</summary>
    public List<CachedBlob> Snapshot()
    {
        lock (_lock)
        {
            var blobs = new List<CachedBlob>(_entries.Count);
            foreach (var (digest, entry) in _entries)
            {
                blobs.Add(new CachedBlob(digest, entry.Length, entry.LastUsed, entry.Added, entry.Readers > 0));
            }

            return blobs;
        }
    }

    /// <summary>Records a use that took no lease (the swarm seeded the blob to peers).</summary>
    public void Touch(Digest digest)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(digest, out var entry))
            {
                entry.LastUsed = _time.GetUtcNow();
            }
        }
    }

    /// <summary>
    /// Evicts a blob the collector chose from a <see cref="Snapshot"/>, unless it has been used since (a lease is open,
    /// or its last use is later than <paramref name="lastUsedSeen"/>). Returns true when removed.
    /// </summary>
    public bool TryEvict(Digest digest, DateTimeOffset lastUsedSeen)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(digest, out var entry) || entry.Readers > 0 || entry.LastUsed > lastUsedSeen)
            {
                return false;
            }

            _entries.Remove(digest);
            _totalBytes -= entry.Length;
            File.Delete(PathOf(digest));
            return true;
        }
    }

    /// <summary>
    /// Writes each last use not yet on disk as the blob's modification time: one metadata update per blob used since
    /// the previous call, so a restart orders the cache as this process did.
    /// </summary>
    public void PersistLastUse()
    {
        List<(Digest Digest, Entry Entry, DateTimeOffset LastUsed)> changed = [];
        lock (_lock)
        {
            foreach (var (digest, entry) in _entries)
            {
                if (entry.LastUsed > entry.PersistedLastUse)
                {
                    changed.Add((digest, entry, entry.LastUsed));
                }
            }
        }

        foreach (var (digest, entry, lastUsed) in changed)
        {
            try
            {
                File.SetLastWriteTimeUtc(PathOf(digest), lastUsed.UtcDateTime);
                lock (_lock)
                {
                    entry.PersistedLastUse = lastUsed;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Evicted or removed meanwhile; a failure only costs the order after a restart.
            }
        }
    }

    private void Release(Entry entry)
    {
        lock (_lock)
        {
            // The entry the lease pinned, even if it was removed and the blob admitted again meanwhile.
            entry.Readers--;
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

            // The modification time is the last use persisted; the blob entered no later than that.
            var info = new FileInfo(file);
            var lastUsed = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
            _entries[digest] = new Entry(info.Length, lastUsed, lastUsed) { PersistedLastUse = lastUsed };
            _totalBytes += info.Length;
        }
    }

    internal sealed class Entry(long length, DateTimeOffset added, DateTimeOffset lastUsed)
    {
        private volatile bool _verified;

        public long Length { get; } = length;

        /// <summary>When it entered the cache (after a restart: its last use persisted, no later than that).</summary>
        public DateTimeOffset Added { get; } = added;

        public DateTimeOffset LastUsed { get; set; } = lastUsed;

        /// <summary>The last use written to the disk (the file's modification time).</summary>
        public DateTimeOffset PersistedLastUse { get; set; }

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

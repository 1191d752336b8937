using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// Each swarm's candidates as last read from a shared store, kept for a short while (read-through): a big swarm gets
/// many announces a second, and all of them can be answered from one read of its sample. A hit is at most
/// <c>ttl</c> old: a peer that joined since is missing from it and one that left is still in it, until the entry
/// expires. Bounded: past <c>maxEntries</c> the cache starts again empty.
/// </summary>
internal sealed class CandidateCache
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<InfoHash, Entry> _entries = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;
    private readonly int _maxEntries;

    public CandidateCache(TimeProvider time, TimeSpan ttl, int maxEntries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        _time = time;
        _ttl = ttl;
        _maxEntries = maxEntries;
    }

    public int Count => _entries.Count;

    /// <summary>The swarm's candidates read less than the TTL ago, if any.</summary>
    public bool TryGet(InfoHash infoHash, out IReadOnlyList<PeerRecord> candidates)
    {
        if (_entries.TryGetValue(infoHash, out var entry))
        {
            if (_time.GetUtcNow() < entry.Expires)
            {
                candidates = entry.Candidates;
                return true;
            }

            // Expired: gone, unless a fresher entry took its place meanwhile.
            _entries.TryRemove(new KeyValuePair<InfoHash, Entry>(infoHash, entry));
        }

        candidates = [];
        return false;
    }

    /// <summary>Keeps candidates read at <paramref name="readAt"/> (the time before the read) until the TTL after it.</summary>
    public void Set(InfoHash infoHash, IReadOnlyList<PeerRecord> candidates, DateTimeOffset readAt)
    {
        if (_entries.Count >= _maxEntries && !_entries.ContainsKey(infoHash))
        {
            _entries.Clear();
        }

        _entries[infoHash] = new Entry(candidates, readAt + _ttl);
    }

    /// <summary>Forgets the swarm's candidates (one of its peers left through this tracker).</summary>
    public void Remove(InfoHash infoHash) => _entries.TryRemove(infoHash, out _);

    private sealed record Entry(IReadOnlyList<PeerRecord> Candidates, DateTimeOffset Expires);
}

using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.MetaInfos;

/// <summary>
/// Info hashes of blobs the origin holds: learnt from every metainfo fetched from it and from authenticated origin
/// announces. Only these get swarms. It outlives the metainfo cache (an entry costs about 100 bytes, a cached
/// metainfo up to megabytes) and is bounded too: the least recently used is forgotten first, and a forgotten one
/// is learnt again by the next fetch of its metainfo.
/// </summary>
internal sealed class KnownInfoHashes
{
    private readonly Lock _lock = new();
    private readonly Dictionary<InfoHash, LinkedListNode<InfoHash>> _nodes = [];
    private readonly LinkedList<InfoHash> _recency = new();
    private readonly int _capacity;

    public KnownInfoHashes(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _nodes.Count;
            }
        }
    }

    public void Add(InfoHash infoHash)
    {
        lock (_lock)
        {
            if (_nodes.TryGetValue(infoHash, out var existing))
            {
                _recency.Remove(existing);
                _recency.AddFirst(existing);
                return;
            }

            _nodes.Add(infoHash, _recency.AddFirst(infoHash));
            if (_nodes.Count > _capacity && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _nodes.Remove(oldest.Value);
            }
        }
    }

    public bool Contains(InfoHash infoHash)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(infoHash, out var node))
            {
                return false;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return true;
        }
    }
}

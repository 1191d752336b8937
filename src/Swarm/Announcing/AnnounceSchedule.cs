namespace P2PRegistry.Swarm.Announcing;

/// <summary>
/// Due times of announces, earliest first: one priority queue for every blob a node announces, instead of a timer per
/// blob. An item is scheduled at most once; moving it leaves its old queue entry behind, skipped when it comes up (and
/// dropped by a rebuild once such entries outnumber the live ones), so the queue stays within a small multiple of the
/// items. Times are ticks of any clock. Not thread-safe: the engine holds its lock around every call.
/// </summary>
internal sealed class AnnounceSchedule<T>
    where T : class
{
    private readonly Dictionary<T, (long Due, int Version)> _due = new(ReferenceEqualityComparer.Instance);
    private readonly PriorityQueue<(T Item, int Version), long> _queue = new();
    private int _nextVersion;

    /// <summary>Items scheduled.</summary>
    public int Count => _due.Count;

    /// <summary>Entries in the queue, live or left behind (tests: it stays bounded).</summary>
    internal int QueueLength => _queue.Count;

    /// <summary>The earliest due time, or null when nothing is scheduled.</summary>
    public long? NextDue
    {
        get
        {
            SkipStale();
            return _queue.TryPeek(out _, out var due) ? due : null;
        }
    }

    public bool Contains(T item) => _due.ContainsKey(item);

    /// <summary>The due time of <paramref name="item"/>, or null when it is not scheduled.</summary>
    public long? DueOf(T item) => _due.TryGetValue(item, out var entry) ? entry.Due : null;

    /// <summary>Schedules <paramref name="item"/> at <paramref name="due"/>, moving it if it was scheduled already.</summary>
    public void Schedule(T item, long due)
    {
        ArgumentNullException.ThrowIfNull(item);
        var version = unchecked(++_nextVersion);
        _due[item] = (due, version);
        _queue.Enqueue((item, version), due);
        if (_queue.Count > (2 * _due.Count) + 64)
        {
            Rebuild();
        }
    }

    /// <summary>Unschedules <paramref name="item"/>; false when it was not scheduled.</summary>
    public bool Remove(T item) => _due.Remove(item);

    /// <summary>Takes the earliest item if it is due at <paramref name="now"/> (it is then no longer scheduled).</summary>
    public bool TryTakeDue(long now, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? item)
    {
        SkipStale();
        if (_queue.TryPeek(out var entry, out var due) && due <= now)
        {
            _queue.Dequeue();
            _due.Remove(entry.Item);
            item = entry.Item;
            return true;
        }

        item = null;
        return false;
    }

    /// <summary>
    /// Moves the items <paramref name="which"/> selects that are due after <paramref name="start"/> + <paramref name="window"/>
    /// into [start, start + window): in the order they were due, item i of n at start + window × (i + r) / n with r uniform
    /// in [0, 1) from <paramref name="random"/>, so they come evenly spaced with jitter instead of all at once. Items due
    /// within the window keep their time. Returns how many moved.
    /// </summary>
    public int Spread(long start, long window, Func<T, bool> which, Func<double> random)
    {
        ArgumentNullException.ThrowIfNull(which);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(window);
        var end = start + window;
        var moving = new List<(T Item, long Due)>();
        foreach (var (item, entry) in _due)
        {
            if (entry.Due > end && which(item))
            {
                moving.Add((item, entry.Due));
            }
        }

        moving.Sort(static (a, b) => a.Due.CompareTo(b.Due));
        for (var i = 0; i < moving.Count; i++)
        {
            var offset = (long)(window * ((i + Math.Clamp(random(), 0, 0.999_999)) / moving.Count));
            Schedule(moving[i].Item, start + offset);
        }

        return moving.Count;
    }

    /// <summary>Every scheduled item (a copy).</summary>
    public List<T> Items() => [.. _due.Keys];

    private void SkipStale()
    {
        while (_queue.TryPeek(out var entry, out _) && (!_due.TryGetValue(entry.Item, out var live) || live.Version != entry.Version))
        {
            _queue.Dequeue();
        }
    }

    private void Rebuild()
    {
        _queue.Clear();
        foreach (var (item, entry) in _due)
        {
            _queue.Enqueue((item, entry.Version), entry.Due);
        }
    }
}

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// The pieces a download stored or read last, kept in memory (pooled arrays): peers ask for a piece soon after we
/// announce it, and the streaming reader follows close behind the download, so most reads of a download written with
/// direct I/O are served from here instead of the disk. Oldest out first; bounded by a piece count.
/// </summary>
internal sealed class HotPieces : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, byte[]> _pieces = [];
    private readonly Queue<int> _order = new();
    private readonly int _capacity;
    private bool _disposed;

    public HotPieces(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pieces.Count;
            }
        }
    }

    /// <summary>Takes ownership of <paramref name="buffer"/> (a <see cref="PieceBuffers"/> array), which holds the whole piece.</summary>
    public void Keep(int piece, byte[] buffer)
    {
        lock (_lock)
        {
            if (_disposed || !_pieces.TryAdd(piece, buffer))
            {
                PieceBuffers.Return(buffer);
                return;
            }

            _order.Enqueue(piece);
            while (_order.Count > _capacity)
            {
                if (_pieces.Remove(_order.Dequeue(), out var evicted))
                {
                    PieceBuffers.Return(evicted);
                }
            }
        }
    }

    /// <summary>Copies bytes of a kept piece into <paramref name="destination"/>; false when the piece is not here.</summary>
    public bool TryCopy(int piece, int offsetInPiece, Span<byte> destination)
    {
        lock (_lock)
        {
            if (!_pieces.TryGetValue(piece, out var buffer))
            {
                return false;
            }

            // Under the lock: an evicted buffer goes back to the pool and may be reused at once.
            buffer.AsSpan(offsetInPiece, destination.Length).CopyTo(destination);
            return true;
        }
    }

    /// <summary>Gives every kept piece back to the pool; later pieces are kept again.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            ReturnAllLocked();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            ReturnAllLocked();
        }
    }

    private void ReturnAllLocked()
    {
        foreach (var buffer in _pieces.Values)
        {
            PieceBuffers.Return(buffer);
        }

        _pieces.Clear();
        _order.Clear();
    }
}

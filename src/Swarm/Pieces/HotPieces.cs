using System.Security.Cryptography;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// The pieces a download stored or read last, kept in memory (pooled, aligned <see cref="PieceBuffer"/>s): peers ask
/// for a piece soon after we announce it, and the streaming reader follows behind the download, so most reads of a
/// download written with direct I/O are served from here instead of the disk. Of the pieces no reader holds, the newest
/// <c>capacity</c> stay (oldest out first); besides them, the pieces a reader holds (<see cref="Hold"/>: the
/// <c>window</c> pieces from its place on, not read yet) stay until it has passed them, up to <c>capacity + window</c>
/// pieces in all, after which the oldest go whatever holds them (the reader then reads those from the disk).
/// </summary>
internal sealed class HotPieces : IDisposable
{
    /// <summary>Holds at once (readers of one download); one more gets no hold (id 0) and reads from the disk.</summary>
    internal const int MaxHolds = 64;

    private readonly Lock _lock = new();
    private readonly Dictionary<int, PieceBuffer> _pieces = [];

    // Oldest first; at most capacity + window entries, so the scans below stay short.
    private readonly List<int> _order = [];
    private readonly Dictionary<int, int> _holds = [];
    private readonly PieceBufferPool _pool;
    private readonly int _capacity;
    private readonly int _window;
    private int _nextHold;
    private bool _disposed;

    public HotPieces(int capacity, int window = 0, PieceBufferPool? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegative(window);
        _capacity = capacity;
        _window = window;
        _pool = pool ?? PieceBufferPool.Shared;
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

    /// <summary>Takes ownership of <paramref name="buffer"/> (rented from the pool), which holds the whole piece.</summary>
    public void Keep(int piece, PieceBuffer buffer)
    {
        lock (_lock)
        {
            if (_disposed || !_pieces.TryAdd(piece, buffer))
            {
                _pool.Return(buffer);
                return;
            }

            _order.Add(piece);
            TrimLocked();
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
            buffer.Span.Slice(offsetInPiece, destination.Length).CopyTo(destination);
            return true;
        }
    }

    /// <summary>Appends the first <paramref name="length"/> bytes of a kept piece to <paramref name="hash"/>; false when it is not here.</summary>
    public bool TryAppendTo(int piece, int length, IncrementalHash hash)
    {
        lock (_lock)
        {
            if (!_pieces.TryGetValue(piece, out var buffer))
            {
                return false;
            }

            hash.AppendData(buffer.Slice(length));
            return true;
        }
    }

    /// <summary>True when the piece is kept (for tests).</summary>
    internal bool Contains(int piece)
    {
        lock (_lock)
        {
            return _pieces.ContainsKey(piece);
        }
    }

    /// <summary>
    /// A reader at <paramref name="firstPiece"/> holds the window from there on; returns the hold's id, for
    /// <see cref="MoveHold"/> and <see cref="Release"/>.
    /// </summary>
    public int Hold(int firstPiece)
    {
        lock (_lock)
        {
            if (_disposed || _window == 0 || _holds.Count >= MaxHolds)
            {
                return 0;
            }

            var id = ++_nextHold;
            _holds[id] = firstPiece;
            return id;
        }
    }

    /// <summary>The reader moved on to <paramref name="firstPiece"/>: the pieces before it are no longer held.</summary>
    public void MoveHold(int hold, int firstPiece)
    {
        lock (_lock)
        {
            if (_holds.TryGetValue(hold, out var current) && current != firstPiece)
            {
                _holds[hold] = firstPiece;
                TrimLocked();
            }
        }
    }

    public void Release(int hold)
    {
        lock (_lock)
        {
            if (_holds.Remove(hold))
            {
                TrimLocked();
            }
        }
    }

    /// <summary>Gives every kept piece no reader holds back to the pool; later pieces are kept again.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            for (var i = _order.Count - 1; i >= 0; i--)
            {
                if (!IsHeldLocked(_order[i]))
                {
                    EvictAtLocked(i);
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var buffer in _pieces.Values)
            {
                _pool.Return(buffer);
            }

            _pieces.Clear();
            _order.Clear();
            _holds.Clear();
        }
    }

    private void TrimLocked()
    {
        // The pieces no reader holds: the newest `capacity` of them stay. The held ones stay besides them, up to
        // capacity + window pieces in all; past that the oldest go, held or not.
        var unheld = 0;
        foreach (var piece in _order)
        {
            if (!IsHeldLocked(piece))
            {
                unheld++;
            }
        }

        for (var i = 0; unheld > _capacity && i < _order.Count;)
        {
            if (IsHeldLocked(_order[i]))
            {
                i++;
                continue;
            }

            EvictAtLocked(i);
            unheld--;
        }

        while (_order.Count > _capacity + _window)
        {
            EvictAtLocked(0);
        }
    }

    private bool IsHeldLocked(int piece)
    {
        foreach (var first in _holds.Values)
        {
            if (piece >= first && piece - first < _window)
            {
                return true;
            }
        }

        return false;
    }

    private void EvictAtLocked(int index)
    {
        var piece = _order[index];
        _order.RemoveAt(index);
        if (_pieces.Remove(piece, out var buffer))
        {
            _pool.Return(buffer);
        }
    }
}

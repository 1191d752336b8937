using System.Runtime.InteropServices;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// Memory for one piece, aligned for direct I/O (<see cref="DirectIo.Alignment"/>): a piece reassembled here is
/// hashed, written with <c>O_DIRECT</c> and kept hot from the same bytes, with no bounce copy into an aligned buffer.
/// Native memory, freed as soon as the pool does not keep it (not left for the collector, so a burst of pieces does
/// not raise the process's memory until the next full collection); a buffer never given back is freed when collected.
/// Rented from and returned to a <see cref="PieceBufferPool"/>; never used after it was returned.
/// </summary>
internal sealed unsafe class PieceBuffer
{
    private byte* _memory;

    public PieceBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = DirectIo.RoundUp(capacity);
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)Capacity, DirectIo.Alignment);
    }

    ~PieceBuffer() => NativeMemory.AlignedFree(_memory);

    /// <summary>Usable bytes (the length asked for, rounded up to the alignment).</summary>
    public int Capacity { get; }

    public Span<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_memory is null, this);
            return new Span<byte>(_memory, Capacity);
        }
    }

    public Span<byte> Slice(int length) => Span[..length];

    /// <summary>Gives the memory back to the system (the pool does, for a buffer it does not keep).</summary>
    public void Free()
    {
        var memory = _memory;
        _memory = null;
        NativeMemory.AlignedFree(memory);
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Idle <see cref="PieceBuffer"/>s kept for the next piece, by capacity: a download reassembles, writes and keeps its
/// pieces in the same few buffers instead of allocating a piece's memory for each. Bounded by idle bytes; a buffer
/// returned past the bound is freed at once.
/// </summary>
internal sealed class PieceBufferPool
{
    /// <summary>The process's pool (8 MiB idle at most).</summary>
    public static PieceBufferPool Shared { get; } = new(8L * 1024 * 1024);

    private readonly Lock _lock = new();
    private readonly Dictionary<int, Stack<PieceBuffer>> _idle = [];
    private readonly long _maxIdleBytes;
    private long _idleBytes;

    public PieceBufferPool(long maxIdleBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxIdleBytes);
        _maxIdleBytes = maxIdleBytes;
    }

    /// <summary>Bytes held by idle buffers (for tests).</summary>
    internal long IdleBytes
    {
        get
        {
            lock (_lock)
            {
                return _idleBytes;
            }
        }
    }

    /// <summary>A buffer of at least <paramref name="length"/> bytes (its contents are whatever was there).</summary>
    public PieceBuffer Rent(int length)
    {
        var capacity = DirectIo.RoundUp(length);
        lock (_lock)
        {
            if (_idle.TryGetValue(capacity, out var stack) && stack.TryPop(out var buffer))
            {
                _idleBytes -= capacity;
                return buffer;
            }
        }

        return new PieceBuffer(capacity);
    }

    public void Return(PieceBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        lock (_lock)
        {
            if (_idleBytes + buffer.Capacity > _maxIdleBytes)
            {
                buffer.Free();
                return;
            }

            if (!_idle.TryGetValue(buffer.Capacity, out var stack))
            {
                stack = new Stack<PieceBuffer>();
                _idle.Add(buffer.Capacity, stack);
            }

            stack.Push(buffer);
            _idleBytes += buffer.Capacity;
        }
    }
}

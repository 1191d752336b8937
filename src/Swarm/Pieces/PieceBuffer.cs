using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// Memory for one piece, its start aligned for direct I/O (<see cref="DirectIo.Alignment"/>): a piece reassembled
/// here is hashed, written with <c>O_DIRECT</c> and kept hot from the same bytes, with no bounce copy into an aligned
/// buffer. A pinned array (it never moves, so its alignment holds), so a buffer that is never given back is still
/// collected. Rented from and returned to a <see cref="PieceBufferPool"/>.
/// </summary>
internal sealed class PieceBuffer
{
    private readonly byte[] _array;
    private readonly int _start;

    public PieceBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = DirectIo.RoundUp(capacity);
        _array = GC.AllocateUninitializedArray<byte>(Capacity + DirectIo.Alignment, pinned: true);
        _start = AlignmentOffset(_array);
    }

    /// <summary>Usable bytes (the length asked for, rounded up to the alignment).</summary>
    public int Capacity { get; }

    public Span<byte> Span => _array.AsSpan(_start, Capacity);

    public Span<byte> Slice(int length) => _array.AsSpan(_start, length);

    private static unsafe int AlignmentOffset(byte[] array)
    {
        var address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        var misalignment = (int)(address & (DirectIo.Alignment - 1));
        return misalignment == 0 ? 0 : DirectIo.Alignment - misalignment;
    }
}

/// <summary>
/// Idle <see cref="PieceBuffer"/>s kept for the next piece, by capacity: a download reassembles, writes and keeps its
/// pieces in the same few buffers instead of allocating a piece's memory for each. Bounded by idle bytes; a buffer
/// returned past the bound is left to the collector.
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

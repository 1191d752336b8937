using System.Numerics;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// A set of piece indexes laid out as the BEP 3 <c>bitfield</c> payload: the high bit of the first byte is
/// piece 0, spare bits at the end are zero. Not thread-safe; its owner locks.
/// </summary>
internal sealed class PieceBitfield
{
    private readonly byte[] _bytes;

    public PieceBitfield(int pieceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        PieceCount = pieceCount;
        _bytes = new byte[ByteLength(pieceCount)];
    }

    public int PieceCount { get; }

    public int Count { get; private set; }

    public bool IsComplete => Count == PieceCount;

    public ReadOnlySpan<byte> Bytes => _bytes;

    public static int ByteLength(int pieceCount) => (pieceCount + 7) >> 3;

    public bool this[int index]
    {
        get
        {
            if ((uint)index >= (uint)PieceCount)
            {
                return false;
            }

            return (_bytes[index >> 3] & (0x80 >> (index & 7))) != 0;
        }
    }

    /// <summary>Sets a piece; returns false when it was already set.</summary>
    public bool Set(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, PieceCount);
        ref var b = ref _bytes[index >> 3];
        var mask = (byte)(0x80 >> (index & 7));
        if ((b & mask) != 0)
        {
            return false;
        }

        b |= mask;
        Count++;
        return true;
    }

    public bool Clear(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, PieceCount);
        ref var b = ref _bytes[index >> 3];
        var mask = (byte)(0x80 >> (index & 7));
        if ((b & mask) == 0)
        {
            return false;
        }

        b &= (byte)~mask;
        Count--;
        return true;
    }

    public void SetAll()
    {
        Array.Fill(_bytes, (byte)0xFF);
        var spare = (_bytes.Length * 8) - PieceCount;
        if (spare > 0)
        {
            _bytes[^1] = (byte)(0xFF << spare);
        }

        Count = PieceCount;
    }

    /// <summary>
    /// Loads a received or persisted bitfield. BEP 3: the length must be exactly ceil(n/8) and the spare
    /// bits must be clear; anything else is refused (false) rather than guessed at.
    /// </summary>
    public bool TryLoad(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != _bytes.Length)
        {
            return false;
        }

        var spare = (_bytes.Length * 8) - PieceCount;
        if (spare > 0 && (bytes[^1] & ((1 << spare) - 1)) != 0)
        {
            return false;
        }

        bytes.CopyTo(_bytes);
        var count = 0;
        foreach (var b in _bytes)
        {
            count += BitOperations.PopCount(b);
        }

        Count = count;
        return true;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;

namespace P2PRegistry.Core.Pieces;

/// <summary>
/// Which pieces of a blob a peer has. Mutable, not thread-safe (one owner: a session or a download).
/// </summary>
/// <remarks>
/// Wire and file format (BEP 3 bitfield): piece 0 is the high bit of byte 0; spare bits at the end are zero.
/// The bits live in 64-bit words laid out so that each word written big-endian is exactly 8 wire bytes.
/// </remarks>
public sealed class Bitfield
{
    private readonly ulong[] _words;
    private int _setCount;

    public Bitfield(int pieceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        PieceCount = pieceCount;
        _words = new ulong[(pieceCount + 63) / 64];
    }

    public int PieceCount { get; }

    /// <summary>How many pieces are set.</summary>
    public int SetCount => _setCount;

    public bool AllSet => _setCount == PieceCount;

    public bool NoneSet => _setCount == 0;

    /// <summary>Bytes on the wire: one bit per piece, rounded up.</summary>
    public int WireLength => WireLengthFor(PieceCount);

    public static int WireLengthFor(int pieceCount) => (pieceCount + 7) / 8;

    /// <summary>
    /// The bits as 64-bit words, for scans a word at a time: piece <c>i</c> is bit <c>63 - (i % 64)</c> of word
    /// <c>i / 64</c> (the most significant bit first, as on the wire); spare bits past the last piece are clear.
    /// </summary>
    public ReadOnlySpan<ulong> Words => _words;

    public bool this[int index]
    {
        get
        {
            CheckIndex(index);
            return (_words[index >> 6] & Mask(index)) != 0;
        }

        set
        {
            if (value)
            {
                Set(index);
            }
            else
            {
                Clear(index);
            }
        }
    }

    /// <summary>Sets a piece; returns false if it was already set.</summary>
    public bool Set(int index)
    {
        CheckIndex(index);
        ref var word = ref _words[index >> 6];
        var mask = Mask(index);
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        _setCount++;
        return true;
    }

    /// <summary>Clears a piece; returns false if it was already clear.</summary>
    public bool Clear(int index)
    {
        CheckIndex(index);
        ref var word = ref _words[index >> 6];
        var mask = Mask(index);
        if ((word & mask) == 0)
        {
            return false;
        }

        word &= ~mask;
        _setCount--;
        return true;
    }

    public void SetAll()
    {
        _words.AsSpan().Fill(ulong.MaxValue);
        var spare = (_words.Length * 64) - PieceCount;
        if (spare > 0)
        {
            _words[^1] = ulong.MaxValue << spare;
        }

        _setCount = PieceCount;
    }

    public void ClearAll()
    {
        _words.AsSpan().Clear();
        _setCount = 0;
    }

    /// <summary>The first piece at or after <paramref name="start"/> that is clear, or -1.</summary>
    public int FirstClear(int start = 0)
    {
        start = Math.Max(start, 0);
        for (var w = start >> 6; w < _words.Length; w++)
        {
            var clear = ~_words[w];
            if (w == start >> 6)
            {
                clear &= ulong.MaxValue >> (start & 63); // only pieces at or after start
            }

            if (clear != 0)
            {
                var index = (w * 64) + BitOperations.LeadingZeroCount(clear);
                return index < PieceCount ? index : -1; // a spare bit past the last piece is not a piece
            }
        }

        return -1;
    }

    /// <summary>Writes the wire form (exactly <see cref="WireLength"/> bytes).</summary>
    public void CopyTo(Span<byte> destination)
    {
        var length = WireLength;
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, length);
        Span<byte> word = stackalloc byte[8];
        for (var i = 0; i < _words.Length; i++)
        {
            var offset = i * 8;
            if (length - offset >= 8)
            {
                BinaryPrimitives.WriteUInt64BigEndian(destination[offset..], _words[i]);
            }
            else
            {
                BinaryPrimitives.WriteUInt64BigEndian(word, _words[i]);
                word[..(length - offset)].CopyTo(destination[offset..]);
            }
        }
    }

    public byte[] ToArray()
    {
        var bytes = new byte[WireLength];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>
    /// Replaces the contents with a wire form. Returns false (contents unchanged) when the length is not
    /// <see cref="WireLength"/> or a spare bit past the last piece is set, as BEP 3 requires them clear.
    /// </summary>
    public bool TryReadFrom(ReadOnlySequence<byte> bits, out string? error)
    {
        if (bits.Length != WireLength)
        {
            error = $"{bits.Length} bytes for {PieceCount} pieces, expected {WireLength}";
            return false;
        }

        var spare = (WireLength * 8) - PieceCount;
        if (spare > 0)
        {
            Span<byte> last = stackalloc byte[1];
            bits.Slice(bits.Length - 1, 1).CopyTo(last);
            if ((last[0] & ((1 << spare) - 1)) != 0)
            {
                error = "spare bits after the last piece are set";
                return false;
            }
        }

        Span<byte> word = stackalloc byte[8];
        var count = 0;
        var reader = new SequenceReader<byte>(bits);
        for (var i = 0; i < _words.Length; i++)
        {
            var take = (int)Math.Min(8, reader.Remaining);
            word.Clear();
            reader.TryCopyTo(word[..take]);
            reader.Advance(take);
            _words[i] = BinaryPrimitives.ReadUInt64BigEndian(word);
            count += BitOperations.PopCount(_words[i]);
        }

        _setCount = count;
        error = null;
        return true;
    }

    public bool TryReadFrom(ReadOnlyMemory<byte> bits, out string? error) => TryReadFrom(new ReadOnlySequence<byte>(bits), out error);

    /// <summary>Builds a bitfield from its wire form.</summary>
    /// <exception cref="FormatException">Wrong length or spare bits set.</exception>
    public static Bitfield FromWire(ReadOnlySequence<byte> bits, int pieceCount)
    {
        var bitfield = new Bitfield(pieceCount);
        return bitfield.TryReadFrom(bits, out var error) ? bitfield : throw new FormatException($"Invalid bitfield: {error}.");
    }

    private static ulong Mask(int index) => 1UL << (63 - (index & 63));

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)PieceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Piece index must be below {PieceCount}.");
        }
    }
}

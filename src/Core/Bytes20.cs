using System.Buffers.Binary;

namespace P2PRegistry.Core;

/// <summary>
/// Twenty bytes held as three big-endian words: the storage of <c>InfoHash</c> and <c>PeerId</c>, so both are
/// plain values with no array behind them, compared in three instructions.
/// </summary>
internal readonly struct Bytes20 : IEquatable<Bytes20>
{
    public const int Length = 20;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    /// <param name="bytes">Exactly <see cref="Length"/> bytes (the caller checks, with its own message).</param>
    public Bytes20(ReadOnlySpan<byte> bytes)
    {
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..Length]);
    }

    /// <summary>The first eight bytes: already uniform for a SHA-1, a cheap hash code.</summary>
    public ulong First => _a;

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..Length], _c);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public bool Equals(Bytes20 other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is Bytes20 other && Equals(other);

    /// <summary>Mixes every word: ids chosen by clients often share a fixed prefix.</summary>
    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);
}

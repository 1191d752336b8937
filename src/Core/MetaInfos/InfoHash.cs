using System.Buffers.Binary;
using System.Security.Cryptography;

namespace P2PRegistry.Core.MetaInfos;

/// <summary>The SHA-1 of a bencoded info dictionary (BEP 3): the identity of a swarm.</summary>
public readonly struct InfoHash : IEquatable<InfoHash>
{
    public const int Length = 20;

    // Twenty bytes held as three big-endian words: a value type with no array behind it.
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    public InfoHash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"An info hash is {Length} bytes, got {bytes.Length}.", nameof(bytes));
        }

        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..20], _c);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Hashes an encoded info dictionary.</summary>
    public static InfoHash Compute(ReadOnlySpan<byte> encodedInfoDictionary)
    {
        Span<byte> hash = stackalloc byte[Length];
        SHA1.HashData(encodedInfoDictionary, hash);
        return new InfoHash(hash);
    }

    public static InfoHash ParseHex(string hex)
    {
        if (!TryParseHex(hex, out var value))
        {
            throw new FormatException($"An info hash is {Length * 2} hex characters.");
        }

        return value;
    }

    public static bool TryParseHex(string? hex, out InfoHash value)
    {
        value = default;
        if (hex is null || hex.Length != Length * 2)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Length];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Length)
        {
            return false;
        }

        value = new InfoHash(bytes);
        return true;
    }

    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public bool Equals(InfoHash other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is InfoHash other && Equals(other);

    // The bytes of a SHA-1 are already uniformly distributed.
    public override int GetHashCode() => (int)_a;

    public override string ToString() => ToHex();

    public static bool operator ==(InfoHash left, InfoHash right) => left.Equals(right);

    public static bool operator !=(InfoHash left, InfoHash right) => !left.Equals(right);
}

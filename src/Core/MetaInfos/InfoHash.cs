using System.Security.Cryptography;

namespace P2PRegistry.Core.MetaInfos;

/// <summary>The SHA-1 of a bencoded info dictionary (BEP 3): the identity of a swarm.</summary>
public readonly struct InfoHash : IEquatable<InfoHash>
{
    public const int Length = 20;

    private readonly Bytes20 _bytes;

    public InfoHash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"An info hash is {Length} bytes, got {bytes.Length}.", nameof(bytes));
        }

        _bytes = new Bytes20(bytes);
    }

    public void CopyTo(Span<byte> destination) => _bytes.CopyTo(destination);

    public byte[] ToArray() => _bytes.ToArray();

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

    public string ToHex() => _bytes.ToHex();

    public bool Equals(InfoHash other) => _bytes.Equals(other._bytes);

    public override bool Equals(object? obj) => obj is InfoHash other && Equals(other);

    // The bytes of a SHA-1 are already uniformly distributed.
    public override int GetHashCode() => (int)_bytes.First;

    public override string ToString() => ToHex();

    public static bool operator ==(InfoHash left, InfoHash right) => left.Equals(right);

    public static bool operator !=(InfoHash left, InfoHash right) => !left.Equals(right);
}

using System.Security.Cryptography;
using System.Text;

namespace P2PRegistry.Core.Wire;

/// <summary>The 20-byte id a peer sends in its handshake (BEP 3). Held as three words, no array behind it.</summary>
public readonly struct PeerId : IEquatable<PeerId>
{
    public const int Length = 20;

    /// <summary>Azureus-style client prefix (BEP 20): "PR" for P2PRegistry, version 0001.</summary>
    public const string ClientPrefix = "-PR0001-";

    private readonly Bytes20 _bytes;

    public PeerId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"A peer id is {Length} bytes, got {bytes.Length}.", nameof(bytes));
        }

        _bytes = new Bytes20(bytes);
    }

    /// <summary>A fresh id: <see cref="ClientPrefix"/> then 12 random alphanumerics (printable in logs and trackers).</summary>
    public static PeerId CreateRandom()
    {
        const string alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        Span<byte> bytes = stackalloc byte[Length];
        Encoding.ASCII.GetBytes(ClientPrefix, bytes);
        for (var i = ClientPrefix.Length; i < Length; i++)
        {
            bytes[i] = (byte)alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        }

        return new PeerId(bytes);
    }

    public void CopyTo(Span<byte> destination) => _bytes.CopyTo(destination);

    public byte[] ToArray() => _bytes.ToArray();

    public string ToHex() => _bytes.ToHex();

    /// <summary>Printable ASCII as is, anything else as <c>.</c>: peer ids are often half text (client and version), half random.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        Span<char> chars = stackalloc char[Length];
        for (var i = 0; i < Length; i++)
        {
            chars[i] = bytes[i] is >= 0x20 and < 0x7f ? (char)bytes[i] : '.';
        }

        return new string(chars);
    }

    public bool Equals(PeerId other) => _bytes.Equals(other._bytes);

    public override bool Equals(object? obj) => obj is PeerId other && Equals(other);

    public override int GetHashCode() => _bytes.GetHashCode();

    public static bool operator ==(PeerId left, PeerId right) => left.Equals(right);

    public static bool operator !=(PeerId left, PeerId right) => !left.Equals(right);
}

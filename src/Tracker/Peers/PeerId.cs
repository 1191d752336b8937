using System.Buffers.Binary;

namespace P2PRegistry.Tracker.Peers;

/// <summary>The 20-byte id a peer picks for itself (BEP 3); a peer is known by it within a swarm.</summary>
internal readonly struct PeerId : IEquatable<PeerId>
{
    public const int Length = 20;

    // Held as three words so a PeerId is a plain value: no array to share or to copy.
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    public PeerId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"A peer id is {Length} bytes, got {bytes.Length}.", nameof(bytes));
        }

        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

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

    public bool Equals(PeerId other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is PeerId other && Equals(other);

    // Peer ids are chosen by clients and often share a fixed prefix ("-AR1360-"): mix every word.
    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public static bool operator ==(PeerId left, PeerId right) => left.Equals(right);

    public static bool operator !=(PeerId left, PeerId right) => !left.Equals(right);
}

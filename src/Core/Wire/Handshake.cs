using System.Buffers;
using System.Buffers.Binary;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Core.Wire;

/// <summary>The first message each side sends (BEP 3); fixed size, no length prefix.</summary>
/// <remarks>
/// BEP 3: <c>&lt;pstrlen=19&gt;&lt;"BitTorrent protocol"&gt;&lt;reserved:8&gt;&lt;info_hash:20&gt;&lt;peer_id:20&gt;</c>.
/// The reserved bytes are held as one big-endian word, so reserved byte <c>k</c> is bits <c>(7-k)·8 … (7-k)·8+7</c>.
/// </remarks>
public readonly struct Handshake : IEquatable<Handshake>
{
    public const int Length = 1 + 19 + 8 + InfoHash.Length + PeerId.Length;

    /// <summary>BEP 10: reserved byte 5, bit 0x10 — the peer speaks the extension protocol.</summary>
    public const ulong ExtensionProtocolBit = 0x10UL << ((7 - 5) * 8);

    private static ReadOnlySpan<byte> Prefix => "\u0013BitTorrent protocol"u8;

    public Handshake(InfoHash infoHash, PeerId peerId, ulong reserved = ExtensionProtocolBit)
    {
        InfoHash = infoHash;
        PeerId = peerId;
        Reserved = reserved;
    }

    public InfoHash InfoHash { get; }

    public PeerId PeerId { get; }

    /// <summary>The 8 reserved bytes as a big-endian word.</summary>
    public ulong Reserved { get; }

    public bool SupportsExtensionProtocol => (Reserved & ExtensionProtocolBit) != 0;

    /// <summary>
    /// Reads a handshake. <see cref="OperationStatus.NeedMoreData"/> until all 68 bytes are present, but a
    /// wrong protocol prefix is refused as soon as its first wrong byte arrives.
    /// </summary>
    /// <exception cref="PeerProtocolException">Not a BitTorrent handshake.</exception>
    public static OperationStatus TryRead(ref ReadOnlySequence<byte> buffer, out Handshake handshake)
    {
        handshake = default;
        Span<byte> bytes = stackalloc byte[Length];
        var available = (int)Math.Min(buffer.Length, Length);
        buffer.Slice(0, available).CopyTo(bytes);

        var prefixAvailable = Math.Min(available, Prefix.Length);
        if (!bytes[..prefixAvailable].SequenceEqual(Prefix[..prefixAvailable]))
        {
            throw PeerProtocolException.InvalidHandshake(bytes[0] != 19 ? $"protocol string length {bytes[0]}, expected 19" : "protocol string is not 'BitTorrent protocol'");
        }

        if (available < Length)
        {
            return OperationStatus.NeedMoreData;
        }

        var reserved = BinaryPrimitives.ReadUInt64BigEndian(bytes[20..]);
        handshake = new Handshake(new InfoHash(bytes.Slice(28, InfoHash.Length)), new PeerId(bytes.Slice(48, PeerId.Length)), reserved);
        buffer = buffer.Slice(Length);
        return OperationStatus.Done;
    }

    public void Write(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(Length);
        Prefix.CopyTo(span);
        BinaryPrimitives.WriteUInt64BigEndian(span[20..], Reserved);
        InfoHash.CopyTo(span.Slice(28, InfoHash.Length));
        PeerId.CopyTo(span.Slice(48, PeerId.Length));
        output.Advance(Length);
    }

    public bool Equals(Handshake other) => InfoHash == other.InfoHash && PeerId == other.PeerId && Reserved == other.Reserved;

    public override bool Equals(object? obj) => obj is Handshake other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(InfoHash, PeerId, Reserved);

    public static bool operator ==(Handshake left, Handshake right) => left.Equals(right);

    public static bool operator !=(Handshake left, Handshake right) => !left.Equals(right);
}

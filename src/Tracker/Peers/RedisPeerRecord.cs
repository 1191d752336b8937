using System.Buffers.Binary;
using System.Net;
using System.Text;
using P2PRegistry.Hosting;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// A <see cref="PeerRecord"/> as a member of its swarm's group set in Redis, binary packed:
/// <c>peer id (20) · address length (1: 4 or 16) · address · port (2, big-endian) · flags (1: 1 = origin, 2 = complete)
/// · bytes left (8, big-endian) · zone length (1) · zone · rack</c> (labels UTF-8). The last-seen time is the member's
/// score. The scripts read the peer id (the first 20 bytes) and the owner (<see cref="Owner"/>: the address with its
/// length, from byte 20); the rest is only decoded here. A record of an IPv4 agent with no labels is 37 bytes.
/// </summary>
internal static class RedisPeerRecord
{
    /// <summary>Bytes of a zone or of a rack, at most (admission allows far fewer: <see cref="PeerLocality.MaxLabelLength"/> characters).</summary>
    public const int MaxLabelBytes = 255;

    private const int OwnerOffset = PeerId.Length;
    private const byte OriginFlag = 1;
    private const byte CompleteFlag = 2;

    /// <summary>UTF-8 that throws on invalid bytes instead of decoding them to U+FFFD.</summary>
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The set a peer is kept in, in handout order: <c>c</c> complete agents, <c>i</c> incomplete agents, <c>o</c> origins.</summary>
    public static char Group(PeerRecord peer) => peer.Role == PeerRole.Origin ? 'o' : peer.Complete ? 'c' : 'i';

    /// <summary>The bytes that say who registered a peer id: the address, after its length, as in the record.</summary>
    public static byte[] Owner(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[17];
        address.TryWriteBytes(bytes[1..], out var length);
        bytes[0] = (byte)length;
        return bytes[..(1 + length)].ToArray();
    }

    /// <summary>The per-address quota key (<see cref="ClientKey"/>: IPv6 by its /64), as its address bytes.</summary>
    public static byte[] QuotaKey(IPAddress address) => ClientKey.Of(address).GetAddressBytes();

    public static byte[] Encode(PeerRecord peer)
    {
        var zone = peer.Locality.Zone;
        var rack = peer.Locality.Rack;
        var zoneBytes = Encoding.UTF8.GetByteCount(zone);
        var rackBytes = Encoding.UTF8.GetByteCount(rack);
        if (zoneBytes > MaxLabelBytes || rackBytes > MaxLabelBytes)
        {
            throw new ArgumentException($"A zone or rack label longer than {MaxLabelBytes} bytes cannot be stored.", nameof(peer));
        }

        Span<byte> address = stackalloc byte[16];
        peer.Address.TryWriteBytes(address, out var addressLength);
        var record = new byte[PeerId.Length + 1 + addressLength + 2 + 1 + 8 + 1 + zoneBytes + rackBytes];
        var span = record.AsSpan();
        peer.Id.CopyTo(span);
        span = span[PeerId.Length..];
        span[0] = (byte)addressLength;
        address[..addressLength].CopyTo(span[1..]);
        span = span[(1 + addressLength)..];
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)peer.Port);
        span[2] = (byte)((peer.Role == PeerRole.Origin ? OriginFlag : 0) | (peer.Complete ? CompleteFlag : 0));
        BinaryPrimitives.WriteInt64BigEndian(span[3..], peer.BytesLeft);
        span[11] = (byte)zoneBytes;
        span = span[12..];
        Encoding.UTF8.GetBytes(zone, span);
        Encoding.UTF8.GetBytes(rack, span[zoneBytes..]);
        return record;
    }

    /// <summary>
    /// Decodes a member written by <see cref="Encode"/>; false for anything else (the key space is shared, so check),
    /// a rack longer than <see cref="MaxLabelBytes"/> or labels that are not valid UTF-8 included.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> record, DateTimeOffset lastSeen, out PeerRecord peer)
    {
        peer = null!;
        if (record.Length < OwnerOffset + 1 + 4 + 2 + 1 + 8 + 1)
        {
            return false;
        }

        var id = new PeerId(record[..PeerId.Length]);
        var rest = record[OwnerOffset..];
        int addressLength = rest[0];
        if (addressLength is not (4 or 16) || rest.Length < 1 + addressLength + 2 + 1 + 8 + 1)
        {
            return false;
        }

        var address = new IPAddress(rest.Slice(1, addressLength));
        rest = rest[(1 + addressLength)..];
        var port = BinaryPrimitives.ReadUInt16BigEndian(rest);
        var flags = rest[2];
        var bytesLeft = BinaryPrimitives.ReadInt64BigEndian(rest[3..]);
        int zoneLength = rest[11];
        var labels = rest[12..];
        if (port == 0 || flags > (OriginFlag | CompleteFlag) || bytesLeft < 0 || zoneLength > labels.Length)
        {
            return false;
        }

        // The rack is the rest of the record: bounded as when encoding, and both labels strict UTF-8 (the key space is shared).
        if (labels.Length - zoneLength > MaxLabelBytes)
        {
            return false;
        }

        PeerLocality locality;
        try
        {
            locality = labels.IsEmpty
                ? PeerLocality.Unknown
                : new PeerLocality(s_strictUtf8.GetString(labels[..zoneLength]), s_strictUtf8.GetString(labels[zoneLength..]));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        peer = new PeerRecord(id, address, port, (flags & OriginFlag) != 0 ? PeerRole.Origin : PeerRole.Agent, (flags & CompleteFlag) != 0, bytesLeft, lastSeen)
        {
            Locality = locality,
        };
        return true;
    }
}

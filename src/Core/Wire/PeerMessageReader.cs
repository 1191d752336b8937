using System.Buffers;
using System.Buffers.Binary;

namespace P2PRegistry.Core.Wire;

/// <summary>Decodes length-prefixed peer wire messages (BEP 3, BEP 10) from a pipe's buffer, without copying or allocating.</summary>
/// <remarks>
/// BEP 3: <c>&lt;len:u32be&gt;&lt;id:u8&gt;&lt;payload&gt;</c>; keep-alive has len = 0.
/// <code>
/// choke 0, unchoke 1, interested 2, not interested 3   (no payload)
/// have 4            &lt;index:u32&gt;
/// bitfield 5        &lt;bits: piece 0 = high bit of byte 0&gt;
/// request 6         &lt;index:u32&gt;&lt;begin:u32&gt;&lt;length:u32&gt;
/// piece 7           &lt;index:u32&gt;&lt;begin:u32&gt;&lt;block&gt;
/// cancel 8          &lt;index:u32&gt;&lt;begin:u32&gt;&lt;length:u32&gt;
/// extended 20       &lt;ext id:u8&gt;&lt;payload&gt;  (BEP 10)
/// </code>
/// </remarks>
public static class PeerMessageReader
{
    /// <summary>The largest block we ask for or serve (BEP 3 clients use 16 KiB; our own peers may agree on more).</summary>
    public const int MaxBlockLength = 128 * 1024;

    /// <summary>A frame limit that fits a piece message with the largest block, and bitfields of up to ~1 M pieces.</summary>
    public const int DefaultMaxFrameLength = MaxBlockLength + 9 + 1024;

    private const int LengthPrefix = 4;

    // <len><id> then the longest fixed fields: request and cancel's <index><begin><length>.
    private const int PayloadOffset = LengthPrefix + 1;
    private const int MaxHeaderLength = PayloadOffset + 12;

    /// <summary>
    /// Reads one message. On <see cref="OperationStatus.Done"/>, <paramref name="buffer"/> is advanced past
    /// the frame; on <see cref="OperationStatus.NeedMoreData"/> it is unchanged (examine all of it, consume none).
    /// Unknown message ids come back as <see cref="PeerMessageType.Unknown"/> with their payload consumed,
    /// for the session to ignore.
    /// </summary>
    /// <exception cref="PeerProtocolException">The frame is too long or its payload malformed; close the connection.</exception>
    public static OperationStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameLength, out PeerMessage message)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrameLength);
        message = default;
        if (buffer.Length < LengthPrefix)
        {
            return OperationStatus.NeedMoreData;
        }

        // The fixed part of any message we parse (length, id and up to 12 bytes of fields) is read from
        // the first segment when it is there, else copied out once; payloads are only ever sliced.
        Span<byte> copy = stackalloc byte[MaxHeaderLength];
        var headLength = (int)Math.Min(buffer.Length, MaxHeaderLength);
        var first = buffer.FirstSpan;
        scoped ReadOnlySpan<byte> head;
        if (first.Length >= headLength)
        {
            head = first[..headLength];
        }
        else
        {
            buffer.Slice(0, headLength).CopyTo(copy);
            head = copy[..headLength];
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(head);

        // The limit is checked before waiting for (and so buffering) the rest of the frame.
        if (length > (uint)maxFrameLength)
        {
            throw PeerProtocolException.FrameTooLarge(length, maxFrameLength);
        }

        if (buffer.Length - LengthPrefix < length)
        {
            return OperationStatus.NeedMoreData;
        }

        if (length == 0)
        {
            message = new PeerMessage(PeerMessageType.KeepAlive, 0, 0, 0, 0, 0, default);
        }
        else
        {
            var payloadLength = (int)length - 1;
            message = Parse(head[LengthPrefix], head[(LengthPrefix + 1)..], payloadLength, buffer);
        }

        buffer = buffer.Slice(LengthPrefix + length);
        return OperationStatus.Done;
    }

    /// <summary>Decodes the message after its id; <paramref name="fields"/> holds the first payload bytes present (up to 12).</summary>
    private static PeerMessage Parse(byte id, ReadOnlySpan<byte> fields, int payloadLength, in ReadOnlySequence<byte> buffer)
    {
        var type = (PeerMessageType)id;
        switch (type)
        {
            case PeerMessageType.Choke:
            case PeerMessageType.Unchoke:
            case PeerMessageType.Interested:
            case PeerMessageType.NotInterested:
                ExpectLength(type, payloadLength, 0, "0 bytes");
                return new PeerMessage(type, id, 0, 0, 0, 0, default);

            case PeerMessageType.Have:
                {
                    ExpectLength(type, payloadLength, 4, "4 bytes");
                    var index = ToInt32(type, "index", BinaryPrimitives.ReadUInt32BigEndian(fields));
                    return new PeerMessage(type, id, index, 0, 0, 0, default);
                }

            case PeerMessageType.Bitfield:
                return new PeerMessage(type, id, 0, 0, 0, 0, buffer.Slice(PayloadOffset, payloadLength));

            case PeerMessageType.Request:
            case PeerMessageType.Cancel:
                {
                    ExpectLength(type, payloadLength, 12, "12 bytes");
                    var index = ToInt32(type, "index", BinaryPrimitives.ReadUInt32BigEndian(fields));
                    var begin = ToInt32(type, "begin", BinaryPrimitives.ReadUInt32BigEndian(fields[4..]));
                    var blockLength = BinaryPrimitives.ReadUInt32BigEndian(fields[8..]);
                    if (blockLength is 0 or > MaxBlockLength)
                    {
                        throw PeerProtocolException.InvalidRequestLength(type, (int)Math.Min(blockLength, int.MaxValue), MaxBlockLength);
                    }

                    return new PeerMessage(type, id, index, begin, (int)blockLength, 0, default);
                }

            case PeerMessageType.Piece:
                {
                    if (payloadLength < 8)
                    {
                        throw PeerProtocolException.InvalidPayloadLength(type, payloadLength, "at least 8 bytes");
                    }

                    var index = ToInt32(type, "index", BinaryPrimitives.ReadUInt32BigEndian(fields));
                    var begin = ToInt32(type, "begin", BinaryPrimitives.ReadUInt32BigEndian(fields[4..]));
                    var blockLength = payloadLength - 8;
                    return new PeerMessage(type, id, index, begin, blockLength, 0, buffer.Slice(PayloadOffset + 8, blockLength));
                }

            case PeerMessageType.Extended:
                {
                    if (payloadLength < 1)
                    {
                        throw PeerProtocolException.InvalidPayloadLength(type, payloadLength, "at least 1 byte");
                    }

                    return new PeerMessage(type, id, 0, 0, 0, fields[0], buffer.Slice(PayloadOffset + 1, payloadLength - 1));
                }

            default:
                // BEP 3 peers may send ids we do not implement (port 9, the fast extension's 13–17, …).
                return new PeerMessage(PeerMessageType.Unknown, id, 0, 0, 0, 0, buffer.Slice(PayloadOffset, payloadLength));
        }
    }

    private static void ExpectLength(PeerMessageType type, int payloadLength, int expected, string description)
    {
        if (payloadLength != expected)
        {
            throw PeerProtocolException.InvalidPayloadLength(type, payloadLength, description);
        }
    }

    private static int ToInt32(PeerMessageType type, string field, uint value) =>
        value <= int.MaxValue ? (int)value : throw PeerProtocolException.ValueOutOfRange(type, field, value);
}

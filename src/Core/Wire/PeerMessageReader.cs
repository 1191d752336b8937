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

        var length = ReadUInt32(buffer);

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
            buffer = buffer.Slice(LengthPrefix);
            return OperationStatus.Done;
        }

        var frame = buffer.Slice(LengthPrefix, length);
        var id = FirstByte(frame);
        var payload = frame.Slice(1);
        message = Parse(id, payload);
        buffer = buffer.Slice(frame.End);
        return OperationStatus.Done;
    }

    private static PeerMessage Parse(byte id, ReadOnlySequence<byte> payload)
    {
        var type = (PeerMessageType)id;
        switch (type)
        {
            case PeerMessageType.Choke:
            case PeerMessageType.Unchoke:
            case PeerMessageType.Interested:
            case PeerMessageType.NotInterested:
                ExpectLength(type, payload, 0, "0 bytes");
                return new PeerMessage(type, id, 0, 0, 0, 0, default);

            case PeerMessageType.Have:
                {
                    ExpectLength(type, payload, 4, "4 bytes");
                    Span<byte> fields = stackalloc byte[4];
                    payload.CopyTo(fields);
                    var index = ToInt32(type, "index", BinaryPrimitives.ReadUInt32BigEndian(fields));
                    return new PeerMessage(type, id, index, 0, 0, 0, default);
                }

            case PeerMessageType.Bitfield:
                return new PeerMessage(type, id, 0, 0, 0, 0, payload);

            case PeerMessageType.Request:
            case PeerMessageType.Cancel:
                {
                    ExpectLength(type, payload, 12, "12 bytes");
                    Span<byte> fields = stackalloc byte[12];
                    payload.CopyTo(fields);
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
                    if (payload.Length < 8)
                    {
                        throw PeerProtocolException.InvalidPayloadLength(type, payload.Length, "at least 8 bytes");
                    }

                    Span<byte> fields = stackalloc byte[8];
                    payload.Slice(0, 8).CopyTo(fields);
                    var index = ToInt32(type, "index", BinaryPrimitives.ReadUInt32BigEndian(fields));
                    var begin = ToInt32(type, "begin", BinaryPrimitives.ReadUInt32BigEndian(fields[4..]));
                    var block = payload.Slice(8);
                    return new PeerMessage(type, id, index, begin, (int)block.Length, 0, block);
                }

            case PeerMessageType.Extended:
                {
                    if (payload.Length < 1)
                    {
                        throw PeerProtocolException.InvalidPayloadLength(type, payload.Length, "at least 1 byte");
                    }

                    return new PeerMessage(type, id, 0, 0, 0, FirstByte(payload), payload.Slice(1));
                }

            default:
                // BEP 3 peers may send ids we do not implement (port 9, the fast extension's 13–17, …).
                return new PeerMessage(PeerMessageType.Unknown, id, 0, 0, 0, 0, payload);
        }
    }

    private static void ExpectLength(PeerMessageType type, in ReadOnlySequence<byte> payload, int expected, string description)
    {
        if (payload.Length != expected)
        {
            throw PeerProtocolException.InvalidPayloadLength(type, payload.Length, description);
        }
    }

    private static int ToInt32(PeerMessageType type, string field, uint value) =>
        value <= int.MaxValue ? (int)value : throw PeerProtocolException.ValueOutOfRange(type, field, value);

    private static uint ReadUInt32(in ReadOnlySequence<byte> buffer)
    {
        var first = buffer.FirstSpan;
        if (first.Length >= LengthPrefix)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(first);
        }

        Span<byte> bytes = stackalloc byte[LengthPrefix];
        buffer.Slice(0, LengthPrefix).CopyTo(bytes);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private static byte FirstByte(in ReadOnlySequence<byte> sequence)
    {
        var first = sequence.FirstSpan;
        if (!first.IsEmpty)
        {
            return first[0];
        }

        // A segment may be empty; find the first byte past it.
        Span<byte> one = stackalloc byte[1];
        sequence.Slice(0, 1).CopyTo(one);
        return one[0];
    }
}

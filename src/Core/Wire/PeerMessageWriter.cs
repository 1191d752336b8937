using System.Buffers;
using System.Buffers.Binary;
using P2PRegistry.Core.Pieces;

namespace P2PRegistry.Core.Wire;

/// <summary>Encodes peer wire messages (BEP 3, BEP 10) into a buffer writer; the layout is on <see cref="PeerMessageReader"/>.</summary>
public static class PeerMessageWriter
{
    /// <summary>The bytes before a piece message's block: <c>&lt;len&gt;&lt;7&gt;&lt;index&gt;&lt;begin&gt;</c>.</summary>
    public const int PieceHeaderLength = 13;

    public static void WriteKeepAlive(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(4);
        BinaryPrimitives.WriteUInt32BigEndian(span, 0);
        output.Advance(4);
    }

    public static void WriteChoke(IBufferWriter<byte> output) => WriteEmpty(output, PeerMessageType.Choke);

    public static void WriteUnchoke(IBufferWriter<byte> output) => WriteEmpty(output, PeerMessageType.Unchoke);

    public static void WriteInterested(IBufferWriter<byte> output) => WriteEmpty(output, PeerMessageType.Interested);

    public static void WriteNotInterested(IBufferWriter<byte> output) => WriteEmpty(output, PeerMessageType.NotInterested);

    public static void WriteHave(IBufferWriter<byte> output, int index)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var span = output.GetSpan(9);
        WriteHeader(span, PeerMessageType.Have, 4);
        BinaryPrimitives.WriteInt32BigEndian(span[5..], index);
        output.Advance(9);
    }

    public static void WriteBitfield(IBufferWriter<byte> output, Bitfield bitfield)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(bitfield);
        var length = bitfield.WireLength;
        var span = output.GetSpan(5 + length);
        WriteHeader(span, PeerMessageType.Bitfield, length);
        bitfield.CopyTo(span.Slice(5, length));
        output.Advance(5 + length);
    }

    public static void WriteBitfield(IBufferWriter<byte> output, ReadOnlySpan<byte> bits)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(5);
        WriteHeader(span, PeerMessageType.Bitfield, bits.Length);
        output.Advance(5);
        output.Write(bits);
    }

    public static void WriteRequest(IBufferWriter<byte> output, int index, int begin, int length) =>
        WriteBlockReference(output, PeerMessageType.Request, index, begin, length);

    public static void WriteCancel(IBufferWriter<byte> output, int index, int begin, int length) =>
        WriteBlockReference(output, PeerMessageType.Cancel, index, begin, length);

    /// <summary>
    /// Writes the 13 bytes that precede a block, so the session can put the block itself straight from
    /// the file (or its page cache) into the output.
    /// </summary>
    /// <summary>Writes the 13-byte piece header into <paramref name="destination"/> (the block follows it there).</summary>
    public static void WritePieceHeader(Span<byte> destination, int index, int begin, int blockLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, PieceHeaderLength);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfNegative(begin);
        ArgumentOutOfRangeException.ThrowIfNegative(blockLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockLength, int.MaxValue - 9);
        WriteHeader(destination, PeerMessageType.Piece, 8 + blockLength);
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], index);
        BinaryPrimitives.WriteInt32BigEndian(destination[9..], begin);
    }

    public static void WritePieceHeader(IBufferWriter<byte> output, int index, int begin, int blockLength)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfNegative(begin);
        ArgumentOutOfRangeException.ThrowIfNegative(blockLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockLength, int.MaxValue - 9);
        var span = output.GetSpan(PieceHeaderLength);
        WriteHeader(span, PeerMessageType.Piece, 8 + blockLength);
        BinaryPrimitives.WriteInt32BigEndian(span[5..], index);
        BinaryPrimitives.WriteInt32BigEndian(span[9..], begin);
        output.Advance(PieceHeaderLength);
    }

    public static void WritePiece(IBufferWriter<byte> output, int index, int begin, ReadOnlySpan<byte> block)
    {
        WritePieceHeader(output, index, begin, block.Length);
        output.Write(block);
    }

    /// <summary>BEP 10: <c>&lt;len&gt;&lt;20&gt;&lt;ext id&gt;&lt;payload&gt;</c>.</summary>
    public static void WriteExtended(IBufferWriter<byte> output, byte extensionId, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, int.MaxValue - 2);
        var span = output.GetSpan(6);
        WriteHeader(span, PeerMessageType.Extended, 1 + payload.Length);
        span[5] = extensionId;
        output.Advance(6);
        output.Write(payload);
    }

    private static void WriteEmpty(IBufferWriter<byte> output, PeerMessageType type)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(5);
        WriteHeader(span, type, 0);
        output.Advance(5);
    }

    private static void WriteBlockReference(IBufferWriter<byte> output, PeerMessageType type, int index, int begin, int length)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfNegative(begin);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var span = output.GetSpan(17);
        WriteHeader(span, type, 12);
        BinaryPrimitives.WriteInt32BigEndian(span[5..], index);
        BinaryPrimitives.WriteInt32BigEndian(span[9..], begin);
        BinaryPrimitives.WriteInt32BigEndian(span[13..], length);
        output.Advance(17);
    }

    // <len:u32be> counts the id byte too.
    private static void WriteHeader(Span<byte> span, PeerMessageType type, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)payloadLength + 1);
        span[4] = (byte)type;
    }
}

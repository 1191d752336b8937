using System.Buffers;
using System.Buffers.Binary;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Testing.Peers;

/// <summary>
/// Peer wire frames as bytes, with any value: the Core writer refuses what a hostile peer must be able to send
/// (negative or huge indexes, a length prefix that lies), so the fields here are raw <see cref="uint"/>s.
/// </summary>
/// <remarks>BEP 3: <c>&lt;len:u32be&gt;&lt;id:u8&gt;&lt;payload&gt;</c>; the ids are on <see cref="PeerMessageReader"/>.</remarks>
public static class Frames
{
    public static byte[] Handshake(InfoHash infoHash, PeerId peerId, ulong reserved = Core.Wire.Handshake.ExtensionProtocolBit)
    {
        var output = new ArrayBufferWriter<byte>(Core.Wire.Handshake.Length);
        new Handshake(infoHash, peerId, reserved).Write(output);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] KeepAlive() => new byte[4];

    /// <summary>A frame whose length prefix is right: 1 + the payload's length.</summary>
    public static byte[] Message(byte id, ReadOnlySpan<byte> payload = default) => WithLength((uint)payload.Length + 1, id, payload);

    /// <summary>A frame with any length prefix (a lie when it is not 1 + the payload's length).</summary>
    public static byte[] WithLength(uint length, byte id, ReadOnlySpan<byte> payload = default)
    {
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, length);
        frame[4] = id;
        payload.CopyTo(frame.AsSpan(5));
        return frame;
    }

    public static byte[] Choke() => Message((byte)PeerMessageType.Choke);

    public static byte[] Unchoke() => Message((byte)PeerMessageType.Unchoke);

    public static byte[] Interested() => Message((byte)PeerMessageType.Interested);

    public static byte[] NotInterested() => Message((byte)PeerMessageType.NotInterested);

    public static byte[] Have(uint index) => Message((byte)PeerMessageType.Have, Words(index));

    public static byte[] Request(uint index, uint begin, uint length) => Message((byte)PeerMessageType.Request, Words(index, begin, length));

    public static byte[] Cancel(uint index, uint begin, uint length) => Message((byte)PeerMessageType.Cancel, Words(index, begin, length));

    public static byte[] Piece(uint index, uint begin, ReadOnlySpan<byte> block) => Message((byte)PeerMessageType.Piece, [.. Words(index, begin), .. block]);

    /// <summary>A bitfield message with any bits (of the right length or not, spare bits set or not).</summary>
    public static byte[] Bitfield(ReadOnlySpan<byte> bits) => Message((byte)PeerMessageType.Bitfield, bits);

    /// <summary>A valid bitfield that has every one of <paramref name="pieceCount"/> pieces.</summary>
    public static byte[] FullBitfield(int pieceCount)
    {
        var all = new Bitfield(pieceCount);
        all.SetAll();
        var output = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WriteBitfield(output, all);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>BEP 10: <c>&lt;len&gt;&lt;20&gt;&lt;ext id&gt;&lt;payload&gt;</c>; ext id 0 is the extension handshake.</summary>
    public static byte[] Extended(byte extensionId, ReadOnlySpan<byte> payload) => Message((byte)PeerMessageType.Extended, [extensionId, .. payload]);

    private static byte[] Words(params ReadOnlySpan<uint> values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }
}

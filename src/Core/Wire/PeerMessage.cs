using System.Buffers;

namespace P2PRegistry.Core.Wire;

/// <summary>
/// One decoded peer wire message. Payload slices (<see cref="Block"/>, <see cref="Bits"/>,
/// <see cref="ExtendedPayload"/>) point into the reader's input: they are valid only until the caller
/// advances its pipe past them.
/// </summary>
public readonly struct PeerMessage
{
    private readonly ReadOnlySequence<byte> _payload;

    internal PeerMessage(PeerMessageType type, byte id, int index, int begin, int length, byte extensionId, ReadOnlySequence<byte> payload)
    {
        Type = type;
        MessageId = id;
        Index = index;
        Begin = begin;
        Length = length;
        ExtensionId = extensionId;
        _payload = payload;
    }

    public PeerMessageType Type { get; }

    /// <summary>The id byte as sent (useful for <see cref="PeerMessageType.Unknown"/>); 0 for a keep-alive.</summary>
    public byte MessageId { get; }

    /// <summary>Piece index of have, request, cancel and piece.</summary>
    public int Index { get; }

    /// <summary>Byte offset inside the piece of request, cancel and piece.</summary>
    public int Begin { get; }

    /// <summary>Block length of request and cancel; the block's length for piece.</summary>
    public int Length { get; }

    /// <summary>BEP 10 extended message id (0 = extension handshake).</summary>
    public byte ExtensionId { get; }

    /// <summary>The block of a piece message: a slice of the input, not a copy.</summary>
    public ReadOnlySequence<byte> Block => Type == PeerMessageType.Piece ? _payload : default;

    /// <summary>The raw bits of a bitfield message (piece 0 is the high bit of the first byte).</summary>
    public ReadOnlySequence<byte> Bits => Type == PeerMessageType.Bitfield ? _payload : default;

    /// <summary>The bytes after the extension id of an extended message (a bencoded dictionary for the handshake).</summary>
    public ReadOnlySequence<byte> ExtendedPayload => Type == PeerMessageType.Extended ? _payload : default;

    /// <summary>The payload of a message with an unknown id.</summary>
    public ReadOnlySequence<byte> UnknownPayload => Type == PeerMessageType.Unknown ? _payload : default;

    public override string ToString() => Type switch
    {
        PeerMessageType.Have => $"Have {Index}",
        PeerMessageType.Request or PeerMessageType.Cancel => $"{Type} {Index}/{Begin}+{Length}",
        PeerMessageType.Piece => $"Piece {Index}/{Begin}+{Length}",
        PeerMessageType.Bitfield => $"Bitfield {_payload.Length} bytes",
        PeerMessageType.Extended => $"Extended {ExtensionId} {_payload.Length} bytes",
        PeerMessageType.Unknown => $"Unknown id {MessageId} {_payload.Length} bytes",
        _ => Type.ToString(),
    };
}

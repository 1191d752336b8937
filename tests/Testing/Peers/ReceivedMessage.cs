using System.Buffers;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Testing.Peers;

/// <summary>A message the other side sent, copied out of the read buffer (the codec's <see cref="PeerMessage"/> is a view).</summary>
/// <param name="Payload">The block, bits, extended payload (after the ext id) or unknown payload; empty otherwise.</param>
public sealed record ReceivedMessage(PeerMessageType Type, byte MessageId, int Index, int Begin, int Length, byte ExtensionId, byte[] Payload)
{
    internal static ReceivedMessage From(in PeerMessage message)
    {
        var payload = message.Type switch
        {
            PeerMessageType.Piece => message.Block,
            PeerMessageType.Bitfield => message.Bits,
            PeerMessageType.Extended => message.ExtendedPayload,
            PeerMessageType.Unknown => message.UnknownPayload,
            _ => default,
        };
        return new ReceivedMessage(message.Type, message.MessageId, message.Index, message.Begin, message.Length, message.ExtensionId, payload.ToArray());
    }

    public override string ToString() => $"{Type} {Index}/{Begin}+{Length} ({Payload.Length} bytes)";
}

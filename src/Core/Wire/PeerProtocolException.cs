namespace P2PRegistry.Core.Wire;

/// <summary>
/// The remote peer broke the wire protocol (BEP 3 / BEP 10). The session closes the connection; the
/// message says what was wrong so it can be logged, never sent back.
/// </summary>
public sealed class PeerProtocolException : Exception
{
    public PeerProtocolException(string message) : base(message)
    {
    }

    public PeerProtocolException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public PeerProtocolException()
    {
    }

    public static PeerProtocolException FrameTooLarge(long length, int max) =>
        new($"Frame of {length} bytes exceeds the {max}-byte limit.");

    public static PeerProtocolException InvalidHandshake(string reason) =>
        new($"Invalid handshake: {reason}.");

    public static PeerProtocolException InvalidPayloadLength(PeerMessageType type, long actual, string expected) =>
        new($"{type} message has a {actual}-byte payload; expected {expected}.");

    public static PeerProtocolException InvalidRequestLength(PeerMessageType type, int length, int max) =>
        new($"{type} message asks for a block of {length} bytes; allowed 1…{max}.");

    public static PeerProtocolException ValueOutOfRange(PeerMessageType type, string field, uint value) =>
        new($"{type} message has {field} {value}, beyond {int.MaxValue}.");

    public static PeerProtocolException InvalidBitfield(string reason) =>
        new($"Invalid bitfield: {reason}.");

    public static PeerProtocolException InvalidExtensionHandshake(string reason) =>
        new($"Invalid extension handshake: {reason}.");
}

namespace P2PRegistry.Core.Bencoding;

/// <summary>Input that is not valid bencode, or exceeds a decoding limit.</summary>
public sealed class BencodeException : FormatException
{
    public BencodeException(string message, int position) : base($"{message} (at byte {position}).") => Position = position;

    public int Position { get; }
}

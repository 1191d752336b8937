using Google.Protobuf;
using Grpc.Core;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Announcing;

/// <summary>
/// An <c>AnnounceResponse</c> (proto/tracker.proto) written straight from its peers' cached encodings
/// (<see cref="GrpcPeerEncoding"/>): the same bytes the generated message would write, without building 50 peer
/// messages per answer. Field order as the generated code writes it: peers, interval_seconds, min_interval_seconds.
/// </summary>
internal sealed class GrpcAnnounceAnswer(IReadOnlyList<PeerRecord> peers, int intervalSeconds, int minIntervalSeconds)
{
    private const uint IntervalTag = (2 << 3) | 0;
    private const uint MinIntervalTag = (3 << 3) | 0;

    public static Marshaller<GrpcAnnounceAnswer> Marshaller { get; } = new(
        static (answer, context) => answer.WriteTo(context),
        static _ => throw new NotSupportedException("The tracker only sends announce answers."));

    public IReadOnlyList<PeerRecord> Peers => peers;

    public int IntervalSeconds => intervalSeconds;

    public int MinIntervalSeconds => minIntervalSeconds;

    /// <summary>The encoded answer, as a client reads it (tests compare it with the generated message).</summary>
    public byte[] ToByteArray()
    {
        var encodings = Encodings(out var size);
        var bytes = new byte[size];
        Write(encodings, bytes);
        return bytes;
    }

    private void WriteTo(SerializationContext context)
    {
        var encodings = Encodings(out var size);
        context.SetPayloadLength(size);
        var writer = context.GetBufferWriter();
        var span = writer.GetSpan(size)[..size];
        Write(encodings, span);
        writer.Advance(size);
        context.Complete();
    }

    private byte[][] Encodings(out int size)
    {
        var encodings = peers.Count == 0 ? [] : new byte[peers.Count][];
        size = 0;
        for (var i = 0; i < encodings.Length; i++)
        {
            encodings[i] = GrpcPeerEncoding.Of(peers[i]);
            size += encodings[i].Length;
        }

        size += FieldSize(IntervalTag, intervalSeconds) + FieldSize(MinIntervalTag, minIntervalSeconds);
        return encodings;
    }

    private void Write(byte[][] encodings, Span<byte> destination)
    {
        var offset = 0;
        foreach (var encoding in encodings)
        {
            encoding.CopyTo(destination[offset..]);
            offset += encoding.Length;
        }

        offset += WriteField(destination[offset..], IntervalTag, intervalSeconds);
        offset += WriteField(destination[offset..], MinIntervalTag, minIntervalSeconds);
        if (offset != destination.Length)
        {
            throw new InvalidOperationException($"Announce answer sized {destination.Length} bytes, written {offset}.");
        }
    }

    // proto3: a zero is not written.
    private static int FieldSize(uint tag, int value) =>
        value == 0 ? 0 : CodedOutputStream.ComputeRawVarint32Size(tag) + CodedOutputStream.ComputeInt32Size(value);

    private static int WriteField(Span<byte> destination, uint tag, int value)
    {
        if (value == 0)
        {
            return 0;
        }

        var offset = WriteVarint(destination, tag);
        // int32: a negative value is written as 10 bytes (its sign-extended 64-bit form), as protobuf does.
        return offset + WriteVarint(destination[offset..], (ulong)(long)value);
    }

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }
}

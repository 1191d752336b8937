using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Bep3;

/// <summary>The bencoded bodies of the BEP 3 tracker responses.</summary>
internal static class Bep3Response
{
    /// <summary>
    /// <c>d8:intervali&lt;s&gt;e12:min intervali&lt;s&gt;e5:peers…e</c>. Compact peers (BEP 23) are one string of 6 bytes
    /// a peer, IPv4 address then port, both big-endian; IPv6 peers cannot be written that way and are left out.
    /// Otherwise a list of <c>d2:ip…7:peer id20:…4:porti…ee</c>.
    /// </summary>
    public static void WriteAnnounce(IBufferWriter<byte> output, TimeSpan interval, TimeSpan minInterval, IReadOnlyList<PeerRecord> peers, bool compact)
    {
        var writer = new BencodeWriter(output);
        writer.WriteStartDictionary();
        writer.WriteString("interval"u8);
        writer.WriteInteger(Seconds(interval));
        writer.WriteString("min interval"u8);
        writer.WriteInteger(Seconds(minInterval));
        writer.WriteString("peers"u8);
        if (compact)
        {
            var count = 0;
            foreach (var peer in peers)
            {
                count += peer.Address.AddressFamily == AddressFamily.InterNetwork ? 1 : 0;
            }

            var bytes = count * 6 <= 1024 ? stackalloc byte[count * 6] : new byte[count * 6];
            var offset = 0;
            foreach (var peer in peers)
            {
                if (peer.Address.AddressFamily == AddressFamily.InterNetwork)
                {
                    WriteCompact(peer.Address, peer.Port, bytes.Slice(offset, 6));
                    offset += 6;
                }
            }

            writer.WriteString(bytes);
        }
        else
        {
            writer.WriteStartList();
            Span<byte> peerId = stackalloc byte[PeerId.Length];
            foreach (var peer in peers)
            {
                writer.WriteStartDictionary();
                writer.WriteString("ip"u8);
                writer.WriteString(peer.Address.ToString());
                writer.WriteString("peer id"u8);
                peer.Id.CopyTo(peerId);
                writer.WriteString(peerId);
                writer.WriteString("port"u8);
                writer.WriteInteger(peer.Port);
                writer.WriteEnd();
            }

            writer.WriteEnd();
        }

        writer.WriteEnd();
    }

    /// <summary><c>d14:failure reason&lt;len&gt;:&lt;text&gt;e</c>: BEP 3's only error form (sent with HTTP 200).</summary>
    public static void WriteFailure(IBufferWriter<byte> output, string reason)
    {
        var writer = new BencodeWriter(output);
        writer.WriteStartDictionary();
        writer.WriteString("failure reason"u8);
        writer.WriteString(reason);
        writer.WriteEnd();
    }

    /// <summary>BEP 23: 4 address bytes then the port, network byte order.</summary>
    public static void WriteCompact(IPAddress address, int port, Span<byte> destination)
    {
        if (!address.TryWriteBytes(destination[..4], out var written) || written != 4)
        {
            throw new ArgumentException("A compact peer needs an IPv4 address.", nameof(address));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination[4..6], checked((ushort)port));
    }

    private static long Seconds(TimeSpan value) => Math.Max(1, (long)Math.Ceiling(value.TotalSeconds));
}

using System.Buffers;
using System.Net;
using System.Text;
using P2PRegistry.Tracker.Bep3;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Bep3;

public sealed class Bep3ResponseTests
{
    private static readonly byte[] s_peerId = "-AR1360-abcdefghijkl"u8.ToArray();

    private static PeerRecord Peer(string ip, int port) =>
        new(new PeerId(s_peerId), IPAddress.Parse(ip), port, PeerRole.Agent, true, 0, DateTimeOffset.UnixEpoch);

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    [Fact]
    public void WriteAnnounce_Compact_WritesBep23GoldenBytes()
    {
        var output = new ArrayBufferWriter<byte>();

        Bep3Response.WriteAnnounce(output, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), [Peer("10.0.0.1", 6881), Peer("192.168.1.2", 80)], compact: true);

        var expected = Concat(
            "d8:intervali30e12:min intervali1e5:peers12:"u8.ToArray(),
            [10, 0, 0, 1, 0x1A, 0xE1, 192, 168, 1, 2, 0x00, 0x50],
            "e"u8.ToArray());
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteAnnounce_CompactWithIpv6Peer_LeavesItOut()
    {
        var output = new ArrayBufferWriter<byte>();

        Bep3Response.WriteAnnounce(output, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), [Peer("::1", 1), Peer("127.0.0.1", 65535)], compact: true);

        var expected = Concat("d8:intervali2e12:min intervali1e5:peers6:"u8.ToArray(), [127, 0, 0, 1, 0xFF, 0xFF], "e"u8.ToArray());
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteAnnounce_NoPeers_WritesEmptyPeerString()
    {
        var output = new ArrayBufferWriter<byte>();

        Bep3Response.WriteAnnounce(output, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(1), [], compact: true);

        // Fractional intervals round up: announcing early is what min interval forbids.
        Assert.Equal("d8:intervali2e12:min intervali1e5:peers0:e", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteAnnounce_NotCompact_WritesListOfDictionaries()
    {
        var output = new ArrayBufferWriter<byte>();

        Bep3Response.WriteAnnounce(output, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), [Peer("10.0.0.1", 6881)], compact: false);

        Assert.Equal(
            "d8:intervali2e12:min intervali1e5:peersld2:ip8:10.0.0.17:peer id20:-AR1360-abcdefghijkl4:porti6881eeee",
            Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteFailure_WritesFailureReasonDictionary()
    {
        var output = new ArrayBufferWriter<byte>();

        Bep3Response.WriteFailure(output, "unknown info_hash");

        Assert.Equal("d14:failure reason17:unknown info_hashe", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void WriteTorrent_WrapsRawInfoAfterAnnounce()
    {
        var output = new ArrayBufferWriter<byte>();

        Bep3Endpoints.WriteTorrent(output, "http://127.0.0.1:7000/announce", "d6:lengthi0ee"u8);

        Assert.Equal("d8:announce30:http://127.0.0.1:7000/announce4:infod6:lengthi0eee", Encoding.ASCII.GetString(output.WrittenSpan));
    }
}

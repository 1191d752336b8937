using System.Net;
using System.Text;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Swarm.Tests.Tracking;

public sealed class TrackerResponseTests
{
    private static AnnounceResult Parse(string text) => TrackerResponse.Parse(Encoding.Latin1.GetBytes(text));

    [Fact]
    public void Parse_CompactPeers_Bep23()
    {
        // 127.0.0.1:6881 and 10.1.2.3:80
        var result = Parse("d8:intervali30e5:peers12:\x7f\x00\x00\x01\x1a\xe1\x0a\x01\x02\x03\x00\x50" + "e");
        Assert.Equal(TimeSpan.FromSeconds(30), result.Interval);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 6881), new IPEndPoint(IPAddress.Parse("10.1.2.3"), 80)], result.Peers.Select(p => p.EndPoint));
    }

    [Fact]
    public void Parse_DictionaryPeers_Bep3()
    {
        var id = "-AR1360-abcdefghijkl";
        var result = Parse($"d8:intervali60e5:peersld2:ip9:127.0.0.17:peer id20:{id}4:porti7000eeee");
        var peer = Assert.Single(result.Peers);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 7000), peer.EndPoint);
        Assert.Equal(new PeerId(Encoding.ASCII.GetBytes(id)), peer.PeerId);
    }

    [Fact]
    public void Parse_FailureReason_Throws()
    {
        var error = Assert.Throws<TrackerException>(() => Parse("d14:failure reason17:torrent"));
        Assert.Contains("not bencoded", error.Message);
        error = Assert.Throws<TrackerException>(() => Parse("d14:failure reason19:torrent not allowede"));
        Assert.Contains("torrent not allowed", error.Message);
    }

    [Theory]
    [InlineData("d8:intervali30e5:peers5:abcdee")]
    [InlineData("li1ee")]
    [InlineData("d5:peersi3ee")]
    public void Parse_Malformed_Throws(string text)
    {
        Assert.Throws<TrackerException>(() => Parse(text));
    }

    [Fact]
    public void Parse_NoPeersNoInterval_Defaults()
    {
        var result = Parse("de");
        Assert.Empty(result.Peers);
        Assert.Equal(TimeSpan.FromMinutes(1), result.Interval);
    }

    [Fact]
    public void BuildUri_PercentEncodesBinaryValues()
    {
        var hash = new byte[20];
        hash[0] = 0xAB;
        hash[1] = (byte)'z';
        hash[2] = (byte)' ';
        var peerId = new PeerId(Encoding.ASCII.GetBytes("-PR0001-abcdefghijkl"));
        var uri = HttpTrackerClient.BuildUri(new Uri("http://127.0.0.1:6969/announce"), new InfoHash(hash), peerId, 6881, 1234, AnnounceEvent.Started);
        var text = uri.AbsoluteUri;
        Assert.StartsWith("http://127.0.0.1:6969/announce?info_hash=%ABz%20%00%00", text, StringComparison.Ordinal);
        Assert.Contains("&peer_id=-PR0001-abcdefghijkl&port=6881&uploaded=0&downloaded=0&left=1234&compact=1", text, StringComparison.Ordinal);
        Assert.EndsWith("&event=started", text, StringComparison.Ordinal);
    }
}

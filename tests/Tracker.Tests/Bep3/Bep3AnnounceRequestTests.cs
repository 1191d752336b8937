using System.Net;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Bep3;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Bep3;

public sealed class Bep3AnnounceRequestTests
{
    private static readonly byte[] s_infoHash = Enumerable.Range(0, 20).Select(i => (byte)(0xF0 - i)).ToArray();
    private static readonly byte[] s_peerId = "-AR1360-abcdefghijkl"u8.ToArray();

    private static string Escape(byte[] bytes) => string.Concat(bytes.Select(b => $"%{b:X2}"));

    private static string Query(string rest) => $"?info_hash={Escape(s_infoHash)}&peer_id={Escape(s_peerId)}{rest}";

    private static bool Parse(string query, out Bep3AnnounceRequest? request, out string? failure)
    {
        Assert.True(RawQuery.TryParse(query, out var raw, out _));
        return Bep3AnnounceRequest.TryParse(raw, out request, out failure);
    }

    [Fact]
    public void TryParse_Aria2cStyleStarted_ReadsEveryField()
    {
        Assert.True(Parse(Query("&port=6881&uploaded=1&downloaded=2&left=300&event=started&compact=1&numwant=20&key=abc&no_peer_id=1&supportcrypto=1"), out var request, out _));

        Assert.Equal(new InfoHash(s_infoHash), request!.InfoHash);
        Assert.Equal(new PeerId(s_peerId), request.PeerId);
        Assert.Equal(6881, request.Port);
        Assert.Equal(1, request.Uploaded);
        Assert.Equal(2, request.Downloaded);
        Assert.Equal(300, request.Left);
        Assert.Equal(AnnounceEvent.Started, request.Event);
        Assert.True(request.Compact);
        Assert.Equal(20, request.NumWant);
        Assert.Null(request.ClaimedAddress);
    }

    [Fact]
    public void TryParse_NoCompactNoEventNoIp_DefaultsToCompactRegularAnnounceClaimingNoAddress()
    {
        Assert.True(Parse(Query("&port=1&left=0"), out var request, out _));

        Assert.True(request!.Compact);
        Assert.Equal(AnnounceEvent.None, request.Event);
        Assert.Equal(0, request.NumWant);
        Assert.Null(request.ClaimedAddress);
    }

    [Fact]
    public void TryParse_IpAndCompact0_ClaimsGivenAddressAndListForm()
    {
        Assert.True(Parse(Query("&port=1&left=0&compact=0&ip=10.9.8.7&event=stopped"), out var request, out _));

        Assert.False(request!.Compact);
        Assert.Equal(IPAddress.Parse("10.9.8.7"), request.ClaimedAddress);
        Assert.Equal(AnnounceEvent.Stopped, request.Event);
    }

    [Fact]
    public void TryParse_NegativeNumWant_MeansDefault()
    {
        Assert.True(Parse(Query("&port=1&left=0&numwant=-1"), out var request, out _));

        Assert.Equal(0, request!.NumWant);
    }

    [Theory]
    [InlineData("?peer_id=-AR1360-abcdefghijkl&port=1&left=0", "info_hash")]
    [InlineData("?info_hash=%01%02&peer_id=-AR1360-abcdefghijkl&port=1&left=0", "info_hash")]
    public void TryParse_BadInfoHash_FailsNamingIt(string query, string expected)
    {
        Assert.False(Parse(query, out _, out var failure));
        Assert.Contains(expected, failure);
    }

    [Theory]
    [InlineData("&left=0", "port")]
    [InlineData("&port=0&left=0", "port")]
    [InlineData("&port=70000&left=0", "port")]
    [InlineData("&port=1", "left")]
    [InlineData("&port=1&left=-1", "left")]
    [InlineData("&port=1&left=0&event=bogus", "event")]
    [InlineData("&port=1&left=0&numwant=x", "numwant")]
    [InlineData("&port=1&left=0&ip=host.example", "ip")]
    public void TryParse_BadField_FailsNamingIt(string rest, string expected)
    {
        Assert.False(Parse(Query(rest), out _, out var failure));
        Assert.Contains(expected, failure);
    }
}

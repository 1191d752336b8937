using System.Net;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Peers;

public sealed class RedisPeerRecordTests
{
    private static readonly DateTimeOffset s_seen = DateTimeOffset.FromUnixTimeMilliseconds(1_767_225_600_123);

    [Theory]
    [InlineData("10.0.0.1", 6881, false, false, 42L, "", "")]
    [InlineData("2001:db8::7", 65535, true, true, 0L, "zone-a", "rack 1:2")]
    [InlineData("192.0.2.1", 1, false, true, long.MaxValue, "z", "")]
    [InlineData("192.0.2.1", 1, false, true, 0L, "", "r")]
    public void Encode_TryDecode_RoundTrips(string address, int port, bool origin, bool complete, long bytesLeft, string zone, string rack)
    {
        var peer = new PeerRecord(TestPeers.Id(7), IPAddress.Parse(address), port, origin ? PeerRole.Origin : PeerRole.Agent, complete, bytesLeft, s_seen)
        {
            Locality = zone.Length == 0 && rack.Length == 0 ? PeerLocality.Unknown : new PeerLocality(zone, rack),
        };

        Assert.True(RedisPeerRecord.TryDecode(peer.Id, RedisPeerRecord.Encode(peer), s_seen, out var decoded));
        Assert.Equal(peer, decoded);
    }

    [Fact]
    public void Encode_Ipv6_StartsWithOwnerThenItsSlash64QuotaKey()
    {
        var peer = new PeerRecord(TestPeers.Id(1), IPAddress.Parse("2001:db8:1:2::99"), 6881, PeerRole.Agent, false, 0, s_seen);

        Assert.StartsWith("2001:db8:1:2::99 2001:db8:1:2:: ", RedisPeerRecord.Encode(peer), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.1 10.0.0.1 6881 0 0 10")]
    [InlineData("10.0.0.1 10.0.0.1 0 0 0 10 0:")]
    [InlineData("10.0.0.1 10.0.0.1 6881 2 0 10 0:")]
    [InlineData("10.0.0.1 10.0.0.1 6881 0 0 -1 0:")]
    [InlineData("10.0.0.1 10.0.0.1 6881 0 0 10 9:ab")]
    [InlineData("not-an-ip 10.0.0.1 6881 0 0 10 0:")]
    public void TryDecode_Garbage_IsFalse(string value)
    {
        Assert.False(RedisPeerRecord.TryDecode(TestPeers.Id(1), value, s_seen, out _));
    }
}

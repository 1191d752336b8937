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
    [InlineData("::ffff:192.0.2.9", 7000, false, false, 5L, "zöne", "")]
    public void Encode_TryDecode_RoundTrips(string address, int port, bool origin, bool complete, long bytesLeft, string zone, string rack)
    {
        var peer = new PeerRecord(TestPeers.Id(7), IPAddress.Parse(address), port, origin ? PeerRole.Origin : PeerRole.Agent, complete, bytesLeft, s_seen)
        {
            Locality = zone.Length == 0 && rack.Length == 0 ? PeerLocality.Unknown : new PeerLocality(zone, rack),
        };

        Assert.True(RedisPeerRecord.TryDecode(RedisPeerRecord.Encode(peer), s_seen, out var decoded));
        Assert.Equal(peer, decoded);
    }

    [Fact]
    public void Encode_Ipv4AgentWithoutLabels_Is37BytesStartingWithItsIdThenItsOwner()
    {
        var address = IPAddress.Parse("10.1.2.3");
        var peer = new PeerRecord(TestPeers.Id(1), address, 6881, PeerRole.Agent, false, 0, s_seen);

        var record = RedisPeerRecord.Encode(peer);

        Assert.Equal(37, record.Length);
        Assert.Equal(peer.Id.ToArray(), record[..20]);
        // The scripts read the owner (length, then address) from byte 20 on.
        Assert.Equal(RedisPeerRecord.Owner(address), record[20..25]);
        Assert.Equal(new byte[] { 4, 10, 1, 2, 3 }, RedisPeerRecord.Owner(address));
    }

    [Fact]
    public void QuotaKey_Ipv6_IsItsSlash64()
    {
        Assert.Equal(IPAddress.Parse("2001:db8:1:2::").GetAddressBytes(), RedisPeerRecord.QuotaKey(IPAddress.Parse("2001:db8:1:2::99")));
        Assert.Equal(new byte[] { 10, 0, 0, 1 }, RedisPeerRecord.QuotaKey(IPAddress.Parse("10.0.0.1")));
    }

    [Theory]
    [InlineData(false, true, 'c')]
    [InlineData(false, false, 'i')]
    [InlineData(true, true, 'o')]
    public void Group_IsTheHandoutOrdersGroup(bool origin, bool complete, char expected)
    {
        var role = origin ? PeerRole.Origin : PeerRole.Agent;
        Assert.Equal(expected, RedisPeerRecord.Group(new PeerRecord(TestPeers.Id(1), IPAddress.Loopback, 1, role, complete, 0, s_seen)));
    }

    [Fact]
    public void Encode_LabelLongerThan255Bytes_Throws()
    {
        var peer = new PeerRecord(TestPeers.Id(1), IPAddress.Loopback, 1, PeerRole.Agent, false, 0, s_seen) { Locality = new PeerLocality(new string('z', 256), "") };

        Assert.Throws<ArgumentException>(() => RedisPeerRecord.Encode(peer));
    }

    [Fact]
    public void TryDecode_RackOf255Bytes_IsTheLongestAccepted()
    {
        var peer = new PeerRecord(TestPeers.Id(1), IPAddress.Loopback, 1, PeerRole.Agent, false, 0, s_seen) { Locality = new PeerLocality("z", new string('r', 255)) };

        Assert.True(RedisPeerRecord.TryDecode(RedisPeerRecord.Encode(peer), s_seen, out var decoded));
        Assert.Equal(peer.Locality, decoded.Locality);
    }

    public static TheoryData<byte[]> Garbage()
    {
        var valid = RedisPeerRecord.Encode(new PeerRecord(TestPeers.Id(1), IPAddress.Parse("10.0.0.1"), 6881, PeerRole.Agent, true, 10, s_seen));
        byte[] With(int index, byte value)
        {
            var copy = valid.ToArray();
            copy[index] = value;
            return copy;
        }

        return new TheoryData<byte[]>
        {
            Array.Empty<byte>(),
            valid[..^1],
            With(20, 5),            // address length neither 4 nor 16
            With(20, 16),           // IPv6 length, but too short for it
            With(25, 0).Also(26, 0), // port 0
            With(27, 4),            // unknown flag
            With(28, 0x80),         // negative bytes left
            With(36, 1),            // zone longer than what follows
            valid.Concat(Enumerable.Repeat((byte)'r', 256)).ToArray(), // rack (the rest of the record) longer than 255 bytes
            valid.Append((byte)0xFF).ToArray(),                        // rack not UTF-8
            With(36, 1).Append((byte)0xC3).Append((byte)'r').ToArray(), // zone a cut UTF-8 sequence
        };
    }

    [Theory]
    [MemberData(nameof(Garbage))]
    public void TryDecode_Garbage_IsFalse(byte[] value)
    {
        Assert.False(RedisPeerRecord.TryDecode(value, s_seen, out _));
    }
}

internal static class ByteArrayEdits
{
    public static byte[] Also(this byte[] bytes, int index, byte value)
    {
        bytes[index] = value;
        return bytes;
    }
}

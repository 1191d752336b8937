using System.Net;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Admission;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Admission;

public sealed class AnnounceValidatorTests
{
    private static readonly InfoHash s_swarm = InfoHash.Compute("validator"u8);
    private static readonly AnnounceValidator s_noTrust = new([]);
    private static readonly AnnounceValidator s_trustsProxy = new([IPNetwork.Parse("10.200.0.0/16")]);

    private static AnnounceClaim Claim(string? ip = null, PeerRole role = PeerRole.Agent) =>
        new(s_swarm, TestPeers.Id(1), ip is null ? null : IPAddress.Parse(ip), 6881, role, Complete: false, BytesLeft: 10, AnnounceEvent.Started, NumWant: 0);

    private static AnnouncerIdentity From(string source, bool isOrigin = false) => new(IPAddress.Parse(source), isOrigin);

    [Fact]
    public void TryValidate_NoIp_RecordsTheSourceAddress()
    {
        Assert.True(s_noTrust.TryValidate(Claim(), From("10.1.2.3"), out var command, out _, out _));

        Assert.Equal(IPAddress.Parse("10.1.2.3"), command.Address);
    }

    [Fact]
    public void TryValidate_SpoofedIpFromUntrustedSource_IsRefused()
    {
        Assert.False(s_noTrust.TryValidate(Claim(ip: "10.66.0.1"), From("10.1.2.3"), out var command, out var refusal, out var reason));

        Assert.Null(command);
        Assert.Equal(AnnounceRefusal.UntrustedIp, refusal);
        Assert.Contains("10.66.0.1", reason);
    }

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("::ffff:10.1.2.3")] // the same address, IPv4-mapped
    public void TryValidate_IpEqualToSource_IsAccepted(string ip)
    {
        Assert.True(s_noTrust.TryValidate(Claim(ip: ip), From("10.1.2.3"), out var command, out _, out _));

        Assert.Equal(IPAddress.Parse("10.1.2.3"), command.Address);
    }

    [Fact]
    public void TryValidate_IpFromTrustedProxy_RecordsTheNamedAddress()
    {
        Assert.True(s_trustsProxy.TryValidate(Claim(ip: "192.0.2.50"), From("10.200.4.4"), out var command, out _, out _));

        Assert.Equal(IPAddress.Parse("192.0.2.50"), command.Address);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("255.255.255.255")]
    [InlineData("ff02::1")]
    public void TryValidate_UndialableIpFromTrustedRemoteProxy_IsRefused(string ip)
    {
        Assert.False(s_trustsProxy.TryValidate(Claim(ip: ip), From("10.200.4.4"), out _, out var refusal, out _));

        Assert.Equal(AnnounceRefusal.UnroutableAddress, refusal);
    }

    [Theory]
    [InlineData("224.0.0.1")]
    [InlineData("0.0.0.0")]
    public void TryValidate_UndialableIpFromLoopbackTrustedProxy_IsRefused(string ip)
    {
        var validator = new AnnounceValidator([IPNetwork.Parse("127.0.0.0/8")]);

        Assert.False(validator.TryValidate(Claim(ip: ip), From("127.0.0.1"), out _, out var refusal, out _));

        Assert.Equal(AnnounceRefusal.UnroutableAddress, refusal);
    }

    [Theory]
    [InlineData("127.0.0.1", null)]
    [InlineData("127.0.0.7", null)]
    [InlineData("127.0.0.7", "127.0.0.7")]
    [InlineData("::1", null)]
    public void TryValidate_LoopbackFromLoopback_IsAccepted(string source, string? ip)
    {
        Assert.True(s_noTrust.TryValidate(Claim(ip: ip), From(source), out var command, out _, out _));

        Assert.True(IPAddress.IsLoopback(command.Address));
    }

    [Fact]
    public void TryValidate_UnknownSource_IsRefused()
    {
        // What the transports pass when the connection has no remote address (IPAddress.None).
        Assert.False(s_noTrust.TryValidate(Claim(), new AnnouncerIdentity(IPAddress.None, false), out _, out var refusal, out _));

        Assert.Equal(AnnounceRefusal.UnroutableAddress, refusal);
    }

    [Fact]
    public void TryValidate_SelfDeclaredOrigin_IsRefused()
    {
        Assert.False(s_noTrust.TryValidate(Claim(role: PeerRole.Origin), From("10.1.2.3"), out _, out var refusal, out _));

        Assert.Equal(AnnounceRefusal.OriginNotAuthenticated, refusal);
    }

    [Fact]
    public void TryValidate_AuthenticatedOrigin_IsAcceptedAsCompleteOrigin()
    {
        Assert.True(s_noTrust.TryValidate(Claim(role: PeerRole.Origin), From("10.1.2.3", isOrigin: true), out var command, out _, out _));

        Assert.Equal(PeerRole.Origin, command.Role);
        Assert.True(command.Complete);
    }

    [Fact]
    public void TryValidate_AuthenticatedOriginAnnouncingAsAgent_StaysAnAgent()
    {
        Assert.True(s_noTrust.TryValidate(Claim(), From("10.1.2.3", isOrigin: true), out var command, out _, out _));

        Assert.Equal(PeerRole.Agent, command.Role);
        Assert.False(command.Complete);
    }

    [Fact]
    public void TryValidate_ZoneAndRack_CarriedIntoTheCommand()
    {
        var claim = Claim() with { Locality = new PeerLocality("eu-west-1a", "r07") };

        Assert.True(s_noTrust.TryValidate(claim, From("10.1.2.3"), out var command, out _, out _));

        Assert.Equal(new PeerLocality("eu-west-1a", "r07"), command.Locality);
    }

    [Theory]
    [InlineData("zone a", "", "zone ")]
    [InlineData("", "rack/1", "rack ")]
    [InlineData("-zone", "", "zone ")]
    [InlineData("z\u0000", "", "zone ")]
    public void TryValidate_LabelOutsideTheCharset_IsRefusedWithReason(string zone, string rack, string expectedPrefix)
    {
        var claim = Claim() with { Locality = new PeerLocality(System.Text.RegularExpressions.Regex.Unescape(zone), rack) };

        Assert.False(s_noTrust.TryValidate(claim, From("10.1.2.3"), out var command, out var refusal, out var reason));

        Assert.Null(command);
        Assert.Equal(AnnounceRefusal.InvalidLocality, refusal);
        Assert.StartsWith(expectedPrefix, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryValidate_LabelLongerThan63_IsRefused()
    {
        var ok = Claim() with { Locality = new PeerLocality(new string('z', PeerLocality.MaxLabelLength), new string('r', PeerLocality.MaxLabelLength)) };
        var tooLong = Claim() with { Locality = new PeerLocality("z", new string('r', PeerLocality.MaxLabelLength + 1)) };

        Assert.True(s_noTrust.TryValidate(ok, From("10.1.2.3"), out _, out _, out _));
        Assert.False(s_noTrust.TryValidate(tooLong, From("10.1.2.3"), out _, out var refusal, out var reason));
        Assert.Equal(AnnounceRefusal.InvalidLocality, refusal);
        Assert.Contains("64 characters", reason, StringComparison.Ordinal);
    }
}

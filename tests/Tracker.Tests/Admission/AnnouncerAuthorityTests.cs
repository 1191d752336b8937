using System.Net;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Testing.Security;
using P2PRegistry.Tracker.Admission;

namespace P2PRegistry.Tracker.Tests.Admission;

public sealed class AnnouncerAuthorityTests
{
    private static readonly IPAddress s_source = IPAddress.Parse("10.4.0.9");

    [Fact]
    public void Identify_CertificateWithOriginRoleUri_IsOrigin()
    {
        using var authority = new TestCertificateAuthority();
        using var certificate = authority.IssueWithUris("origin", "spiffe://cluster/ns/p2p", ClusterRoles.OriginUri).Certificate;

        var identity = new AnnouncerAuthority([]).Identify(s_source, certificate);

        Assert.True(identity.IsOrigin);
        Assert.Equal(s_source, identity.Source);
    }

    [Theory]
    [InlineData("urn:p2pregistry:role:agent")]
    [InlineData("urn:p2pregistry:role:origin:x")]
    public void Identify_CertificateWithOtherRole_IsNotOrigin(string uri)
    {
        using var authority = new TestCertificateAuthority();
        using var certificate = authority.Issue("peer", uri).Certificate;

        Assert.False(new AnnouncerAuthority([]).Identify(s_source, certificate).IsOrigin);
    }

    [Fact]
    public void Identify_CertificateWithoutUri_IsNotOrigin()
    {
        using var authority = new TestCertificateAuthority();
        using var certificate = authority.Issue("plain").Certificate;

        Assert.False(new AnnouncerAuthority([]).Identify(s_source, certificate).IsOrigin);
    }

    [Fact]
    public void Identify_NoCertificate_OriginOnlyFromOriginNetworks()
    {
        var authority = new AnnouncerAuthority([IPNetwork.Parse("10.4.0.0/24")]);

        Assert.True(authority.Identify(s_source, null).IsOrigin);
        Assert.True(authority.Identify(IPAddress.Parse("::ffff:10.4.0.9"), null).IsOrigin); // a dual-stack socket's view
        Assert.False(authority.Identify(IPAddress.Parse("10.4.1.9"), null).IsOrigin);
    }
}

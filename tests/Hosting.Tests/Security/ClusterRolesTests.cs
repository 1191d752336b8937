using System.Net;
using System.Security.Cryptography.X509Certificates;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Testing.Security;

namespace P2PRegistry.Hosting.Tests.Security;

public sealed class ClusterRolesTests
{
    [Theory]
    [InlineData(TestCertificateAuthority.OriginRole, ClusterRole.Origin)]
    [InlineData(TestCertificateAuthority.AgentRole, ClusterRole.Agent)]
    [InlineData("URN:P2PREGISTRY:ROLE:ORIGIN", ClusterRole.Origin)]
    [InlineData("urn:p2pregistry:role:tracker", ClusterRole.None)]
    [InlineData("https://origin.example/urn:p2pregistry:role:origin", ClusterRole.None)]
    public void Of_CertificateWithRoleUri_ReadsTheRole(string uri, ClusterRole expected)
    {
        using var authority = new TestCertificateAuthority();
        var leaf = authority.Issue("peer", uri);
        Assert.Equal(expected, ClusterRoles.Of(leaf.Certificate));
    }

    [Fact]
    public void Of_NoCertificate_OrNoUri_IsNone()
    {
        using var authority = new TestCertificateAuthority();
        Assert.Equal(ClusterRole.None, ClusterRoles.Of(null));
        Assert.Equal(ClusterRole.None, ClusterRoles.Of(authority.Issue("plain").Certificate));
    }

    [Fact]
    public void Of_TwoDifferentRoles_IsNone()
    {
        using var authority = new TestCertificateAuthority();
        using var certificate = authority.IssueWithUris("both", ClusterRoles.AgentUri, ClusterRoles.OriginUri).Certificate;
        Assert.Equal(ClusterRole.None, ClusterRoles.Of(certificate));
    }

    [Fact]
    public void UrisOf_MalformedExtension_IsEmpty()
    {
        Assert.Empty(ClusterRoles.UrisOf([0x30, 0x05, 0x86, 0x10, 0x41]));
        Assert.Empty(ClusterRoles.UrisOf([]));
    }

    [Fact]
    public void UrisOf_SkipsOtherNames_KeepsEveryUri()
    {
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddUri(new Uri("urn:a:b"));
        names.AddIpAddress(IPAddress.Loopback);
        names.AddUri(new Uri(ClusterRoles.OriginUri));
        Assert.Equal(["urn:a:b", ClusterRoles.OriginUri], ClusterRoles.UrisOf(names.Build().RawData));
    }
}

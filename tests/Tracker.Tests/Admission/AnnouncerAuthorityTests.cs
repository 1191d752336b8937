using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Tracker.Admission;

namespace P2PRegistry.Tracker.Tests.Admission;

public sealed class AnnouncerAuthorityTests
{
    private static readonly IPAddress s_source = IPAddress.Parse("10.4.0.9");

    private static X509Certificate2 Certificate(params string[] uris)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=test", key, HashAlgorithmName.SHA256);
        if (uris.Length != 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("origin.test");
            foreach (var uri in uris)
            {
                san.AddUri(new Uri(uri));
            }

            request.CertificateExtensions.Add(san.Build());
        }

        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
    }

    [Fact]
    public void Identify_CertificateWithOriginRoleUri_IsOrigin()
    {
        using var certificate = Certificate("spiffe://cluster/ns/p2p", ClusterRoles.OriginUri);

        var identity = new AnnouncerAuthority([]).Identify(s_source, certificate);

        Assert.True(identity.IsOrigin);
        Assert.Equal(s_source, identity.Source);
    }

    [Theory]
    [InlineData("urn:p2pregistry:role:agent")]
    [InlineData("urn:p2pregistry:role:origin:x")]
    public void Identify_CertificateWithOtherRole_IsNotOrigin(string uri)
    {
        using var certificate = Certificate(uri);

        Assert.False(new AnnouncerAuthority([]).Identify(s_source, certificate).IsOrigin);
    }

    [Fact]
    public void Identify_CertificateWithoutSubjectAltName_IsNotOrigin()
    {
        using var certificate = Certificate();

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

using P2PRegistry.Hosting.Security;
using P2PRegistry.Testing.Security;

namespace P2PRegistry.Hosting.Tests.Security;

public sealed class TlsValidationTests
{
    [Fact]
    public void ValidateListeners_RequireClientCertificateWithOnlyHttpListeners_NamesTheKeys()
    {
        var options = new TlsOptions { RequireClientCertificate = true };
        var error = Assert.Single(options.ValidateListeners("Tracker:Tls", [("Tracker:GrpcUrl", "http://127.0.0.1:7001"), ("Tracker:HttpUrl", "http://127.0.0.1:7000")]));
        Assert.Contains("Tracker:Tls:RequireClientCertificate", error, StringComparison.Ordinal);
        Assert.Contains("Tracker:GrpcUrl 'http://127.0.0.1:7001'", error, StringComparison.Ordinal);
        Assert.Contains("Tracker:HttpUrl 'http://127.0.0.1:7000'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateListeners_OneHttpsListener_Accepted()
    {
        var options = new TlsOptions { RequireClientCertificate = true };
        Assert.Empty(options.ValidateListeners("Tracker:Tls", [("Tracker:GrpcUrl", "http://127.0.0.1:7001"), ("Tracker:HttpUrl", "HTTPS://127.0.0.1:7000")]));
    }

    [Fact]
    public void ValidateListeners_WithoutMutualTls_HttpIsFine()
    {
        Assert.Empty(new TlsOptions().ValidateListeners("Agent:Tls", [("Agent:RegistryUrl", "http://127.0.0.1:5050")]));
    }

    [Fact]
    public void VerifyChainOnly_ServerOnlyCertificate_RefusedAsClient()
    {
        using var authority = new TestCertificateAuthority();
        var serverOnly = authority.Issue("server-only", TestCertificateAuthority.AgentRole, extendedKeyUsages: [TestCertificateAuthority.ServerAuthentication]);
        var trust = CertificateTrust.Load(authority.CaPath);
        Assert.True(authority.Verifies(serverOnly.Certificate)); // it does chain: only its key usage keeps it out
        Assert.False(CertificateTrust.AllowsClientAuthentication(serverOnly.Certificate));
        Assert.False(trust.VerifyChainOnly(serverOnly.Certificate, null));
    }

    [Fact]
    public void VerifyChainOnly_ClientAuthOrNoKeyUsageExtension_Accepted()
    {
        using var authority = new TestCertificateAuthority();
        var trust = CertificateTrust.Load(authority.CaPath);
        var issued = authority.Issue("both", TestCertificateAuthority.AgentRole);
        var clientOnly = authority.Issue("client-only", extendedKeyUsages: [TestCertificateAuthority.ClientAuthentication]);
        var anyUse = authority.Issue("any-use", extendedKeyUsages: []);
        Assert.True(trust.VerifyChainOnly(issued.Certificate, null));
        Assert.True(trust.VerifyChainOnly(clientOnly.Certificate, null));
        Assert.True(trust.VerifyChainOnly(anyUse.Certificate, null));
    }

    [Fact]
    public void VerifyChainOnly_ClientAuthFromAnotherCa_Refused()
    {
        using var authority = new TestCertificateAuthority();
        using var other = new TestCertificateAuthority("Other CA");
        var foreign = other.Issue("foreign", TestCertificateAuthority.OriginRole);
        Assert.False(CertificateTrust.Load(authority.CaPath).VerifyChainOnly(foreign.Certificate, null));
    }
}

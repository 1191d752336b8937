using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using P2PRegistry.Swarm.Transport;
using P2PRegistry.Testing.Security;

namespace P2PRegistry.Swarm.Tests.Transport;

public sealed class PeerTlsSettingsTests
{
    private static Exception? Start(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSwarm(configuration.GetSection(SwarmOptions.SectionName));
        using var provider = services.BuildServiceProvider();
        return Record.Exception(() => provider.GetRequiredService<IOptions<SwarmOptions>>().Value);
    }

    [Theory]
    [InlineData("Swarm:Tls:KeyPath", "/etc/p2p/peer.key")]
    [InlineData("Swarm:Tls:CaPath", "/etc/p2p/ca.crt")]
    [InlineData("Swarm:Tls:RequireClientCertificate", "true")]
    public void KeyWithoutCertificate_FailsStart_NamingTheKeys(string key, string value)
    {
        var error = Assert.IsType<OptionsValidationException>(Start(new() { [key] = value }));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains("Swarm:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CertificateWithoutCa_FailsStart()
    {
        using var authority = new TestCertificateAuthority();
        var peer = authority.Issue("peer");
        var error = Assert.IsType<OptionsValidationException>(Start(new()
        {
            ["Swarm:Tls:CertificatePath"] = peer.CertificatePath,
            ["Swarm:Tls:KeyPath"] = peer.KeyPath,
        }));
        Assert.Contains("Swarm:Tls:CaPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CompleteSection_Starts()
    {
        using var authority = new TestCertificateAuthority();
        var peer = authority.Issue("peer");
        Assert.Null(Start(new()
        {
            ["Swarm:Tls:CertificatePath"] = peer.CertificatePath,
            ["Swarm:Tls:KeyPath"] = peer.KeyPath,
            ["Swarm:Tls:CaPath"] = authority.CaPath,
        }));
    }

    [Fact]
    public void NoSection_Starts()
    {
        Assert.Null(Start(new() { ["Swarm:PeerPort"] = "6881" }));
    }
}

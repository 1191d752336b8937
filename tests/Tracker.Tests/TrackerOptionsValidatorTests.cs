using System.Net;

namespace P2PRegistry.Tracker.Tests;

public sealed class TrackerOptionsValidatorTests
{
    private static IEnumerable<string> Errors(TrackerOptions options) =>
        new TrackerOptionsValidator().Validate(null, options).Failures ?? [];

    [Fact]
    public void Validate_Defaults_Succeed()
    {
        Assert.True(new TrackerOptionsValidator().Validate(null, new TrackerOptions()).Succeeded);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:7000")]
    [InlineData("http://tracker.example:7000")]
    [InlineData("http://127.0.0.1:7000/path")]
    [InlineData("nonsense")]
    public void Validate_BadHttpUrl_NamesTheKey(string url)
    {
        Assert.Contains(Errors(new TrackerOptions { HttpUrl = url }), e => e.Contains("Tracker:HttpUrl"));
    }

    [Theory]
    [InlineData("10.0.0.1/8")] // host bits set
    [InlineData("10.0.0.0")]
    [InlineData("10.0.0.0/33")]
    [InlineData("proxy.example/32")]
    public void Validate_BadNetwork_NamesTheKeyAndIndex(string network)
    {
        var options = new TrackerOptions { TrustedProxyNetworks = ["192.0.2.0/24", network], OriginNetworks = [network] };

        var errors = Errors(options).ToList();

        Assert.Contains(errors, e => e.Contains("Tracker:TrustedProxyNetworks:1"));
        Assert.Contains(errors, e => e.Contains("Tracker:OriginNetworks:0"));
    }

    [Fact]
    public void Validate_NetworksAndQuotas_AcceptedWhenSane()
    {
        var options = new TrackerOptions { TrustedProxyNetworks = ["10.8.0.0/16", "fd00::/8"], OriginNetworks = ["192.0.2.7/32"], MaxPeersPerAddressPerSwarm = 1 };

        Assert.True(new TrackerOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(2, TrackerOptionsValidator.ParseNetworks(options.TrustedProxyNetworks).Count);
    }

    [Theory]
    [InlineData(nameof(TrackerOptions.MaxPeers))]
    [InlineData(nameof(TrackerOptions.MaxPeersPerAddress))]
    [InlineData(nameof(TrackerOptions.MaxPeersPerAddressPerSwarm))]
    [InlineData(nameof(TrackerOptions.MaxKnownInfoHashes))]
    public void Validate_ZeroQuota_NamesTheKey(string key)
    {
        var options = new TrackerOptions();
        typeof(TrackerOptions).GetProperty(key)!.SetValue(options, 0);

        Assert.Contains(Errors(options), e => e.Contains("Tracker:" + key));
    }

    [Fact]
    public void Validate_HttpsListenerWithoutCertificate_NamesTheTlsKeys()
    {
        Assert.Contains(Errors(new TrackerOptions { GrpcUrl = "https://127.0.0.1:7001" }), e => e.Contains("Tracker:GrpcUrl") && e.Contains("Tracker:Tls:CertificatePath"));
    }

    [Fact]
    public void Validate_HttpsListenersWithCertificate_Succeed()
    {
        using var authority = new P2PRegistry.Testing.Security.TestCertificateAuthority();
        var leaf = authority.Issue("tracker");
        var options = new TrackerOptions
        {
            GrpcUrl = "https://127.0.0.1:7001",
            HttpUrl = "https://127.0.0.1:7000",
            Tls = new() { CertificatePath = leaf.CertificatePath, KeyPath = leaf.KeyPath },
        };
        Assert.Empty(Errors(options));
    }

    [Fact]
    public void Validate_MutualTlsWithOnlyHttpListeners_FailsNamingTheKeys()
    {
        using var authority = new P2PRegistry.Testing.Security.TestCertificateAuthority();
        var leaf = authority.Issue("tracker");
        var tls = new P2PRegistry.Hosting.Security.TlsOptions { CertificatePath = leaf.CertificatePath, KeyPath = leaf.KeyPath, CaPath = authority.CaPath, RequireClientCertificate = true };
        var error = Assert.Single(Errors(new TrackerOptions { Tls = tls }));
        Assert.Contains("Tracker:Tls:RequireClientCertificate", error, StringComparison.Ordinal);
        Assert.Contains("Tracker:GrpcUrl", error, StringComparison.Ordinal);
        Assert.Contains("Tracker:HttpUrl", error, StringComparison.Ordinal);
        Assert.Empty(Errors(new TrackerOptions { Tls = tls, HttpUrl = "https://127.0.0.1:7000" }));
    }

    [Fact]
    public void Validate_SameGrpcAndHttpPort_ExplainsWhy()
    {
        Assert.Contains(Errors(new TrackerOptions { HttpUrl = "http://127.0.0.1:7001" }), e => e.Contains("HTTP/2"));
    }

    [Theory]
    [InlineData(-0.01, false)]
    [InlineData(0.0, true)]
    [InlineData(0.2, true)]
    [InlineData(1.0, true)]
    [InlineData(1.01, false)]
    [InlineData(double.NaN, false)]
    public void Validate_RemoteShare_MustBeZeroToOne(double share, bool valid)
    {
        var errors = Errors(new TrackerOptions { RemoteShare = share }).ToList();

        Assert.Equal(valid, !errors.Any(e => e.Contains("Tracker:RemoteShare", StringComparison.Ordinal)));
    }

    [Fact]
    public void Validate_BothPortZero_Succeeds()
    {
        Assert.True(new TrackerOptionsValidator().Validate(null, new TrackerOptions { HttpUrl = "http://127.0.0.1:0", GrpcUrl = "http://127.0.0.1:0" }).Succeeded);
    }

    [Fact]
    public void Validate_BadValues_ReportsEach()
    {
        var errors = Errors(new TrackerOptions
        {
            OriginUrl = "ftp://x",
            MaxPeersHandedOut = 0,
            SeedingInterval = TimeSpan.Zero,
            PeerTtl = TimeSpan.FromSeconds(1),
            MaxSwarms = 0,
        }).ToList();

        Assert.Contains(errors, e => e.Contains("Tracker:OriginUrl"));
        Assert.Contains(errors, e => e.Contains("Tracker:MaxPeersHandedOut"));
        Assert.Contains(errors, e => e.Contains("Tracker:SeedingInterval"));
        Assert.Contains(errors, e => e.Contains("Tracker:MaxSwarms"));
    }

    [Fact]
    public void ParseListenUrl_LocalhostAndIpv6_Resolve()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 7000), TrackerOptionsValidator.ParseListenUrl("http://localhost:7000"));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 7000), TrackerOptionsValidator.ParseListenUrl("http://[::1]:7000"));
    }
}

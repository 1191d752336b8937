using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using P2PRegistry.Origin.Upstream;

namespace P2PRegistry.Origin.Tests.Upstream;

public sealed class UpstreamConfigurationTests
{
    [Fact]
    public async Task Upstreams_BindFromIndexedKeys_DockerHubAddedByDefault_PasswordFileTrimmed()
    {
        var secret = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(secret, "from-file\n");
            await using var origin = await OriginServer.StartAsync(
            [
                "--Origin:Upstreams:0:Name=ghcr.io",
                "--Origin:Upstreams:0:Url=https://ghcr.io",
                "--Origin:Upstreams:0:Username=bot",
                $"--Origin:Upstreams:0:PasswordFile={secret}",
                "--Origin:Upstreams:1:Name=registry.example.com:5000",
                "--Origin:Upstreams:1:Url=http://10.0.0.7:5000",
                "--Origin:Upstreams:1:AllowHttp=true",
                "--Origin:DefaultUpstream=ghcr.io",
            ]);
            var catalog = origin.Services.GetRequiredService<UpstreamCatalog>();
            var registries = catalog.Registries.ToDictionary(r => r.Name);
            Assert.Equal(["docker.io", "ghcr.io", "registry.example.com:5000"], registries.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(new Uri("https://registry-1.docker.io"), registries["docker.io"].Url);
            Assert.Equal("bot", registries["ghcr.io"].Username);
            Assert.Equal("from-file", registries["ghcr.io"].Password);
            Assert.DoesNotContain("from-file", registries["ghcr.io"].ToString(), StringComparison.Ordinal);
            Assert.False(registries["registry.example.com:5000"].HasCredentials);

            Assert.Same(catalog.Find("ghcr.io"), catalog.Find(null));
            Assert.Same(catalog.Find("registry.example.com:5000"), catalog.Find("REGISTRY.example.com:5000"));
            Assert.Null(catalog.Find("quay.io"));
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Fact]
    public async Task DockerHub_CanBeOverridden_AndWithoutDefaultUpstreamNoNsIsLocal()
    {
        await using var origin = await OriginServer.StartAsync(["--Origin:Upstreams:0:Name=docker.io", "--Origin:Upstreams:0:Url=https://mirror.example.com"]);
        var catalog = origin.Services.GetRequiredService<UpstreamCatalog>();
        Assert.Equal(new Uri("https://mirror.example.com"), Assert.Single(catalog.Registries).Url);
        Assert.Null(catalog.Find(null));
        Assert.Null(catalog.Find(""));
    }

    [Theory]
    [InlineData("Origin:Upstreams:0:Url", "http://plain.example.com", "--Origin:Upstreams:0:Name=plain.example.com", "--Origin:Upstreams:0:Url=http://plain.example.com")]
    [InlineData("Origin:Upstreams:0:Url", "ftp://x", "--Origin:Upstreams:0:Name=x.io", "--Origin:Upstreams:0:Url=ftp://x")]
    [InlineData("Origin:Upstreams:0:Name", "bad/name", "--Origin:Upstreams:0:Name=bad/name", "--Origin:Upstreams:0:Url=https://x.io")]
    [InlineData("Origin:Upstreams:0:Name", "", "--Origin:Upstreams:0:Url=https://x.io")]
    [InlineData("Origin:Upstreams:1:Name", "x.io", "--Origin:Upstreams:0:Name=x.io", "--Origin:Upstreams:0:Url=https://x.io", "--Origin:Upstreams:1:Name=x.io", "--Origin:Upstreams:1:Url=https://y.io")]
    [InlineData("Origin:Upstreams:0:Password", "bot", "--Origin:Upstreams:0:Name=x.io", "--Origin:Upstreams:0:Url=https://x.io", "--Origin:Upstreams:0:Username=bot")]
    [InlineData("Origin:Upstreams:0:PasswordFile", "/nonexistent/secret", "--Origin:Upstreams:0:Name=x.io", "--Origin:Upstreams:0:Url=https://x.io", "--Origin:Upstreams:0:Username=bot", "--Origin:Upstreams:0:PasswordFile=/nonexistent/secret")]
    [InlineData("Origin:Upstreams:0:Username", "", "--Origin:Upstreams:0:Name=x.io", "--Origin:Upstreams:0:Url=https://x.io", "--Origin:Upstreams:0:Password=orphan")]
    [InlineData("Origin:DefaultUpstream", "quay.io", "--Origin:DefaultUpstream=quay.io")]
    [InlineData("Origin:UpstreamFillTimeout", "00:00:00", "--Origin:UpstreamFillTimeout=00:00:00")]
    [InlineData("Origin:UpstreamTimeout", "00:00:00", "--Origin:UpstreamTimeout=00:00:00")]
    [InlineData("Origin:RevalidationTimeout", "00:00:20", "--Origin:RevalidationTimeout=00:00:20")]
    [InlineData("Origin:RevalidationTimeout", "00:00:00", "--Origin:RevalidationTimeout=00:00:00")]
    [InlineData("Origin:UpstreamIdleTimeout", "00:00:00", "--Origin:UpstreamIdleTimeout=00:00:00")]
    [InlineData("Origin:Upstreams:0:Url", "https://x.io/mirror", "--Origin:Upstreams:0:Name=x.io", "--Origin:Upstreams:0:Url=https://x.io/mirror")]
    [InlineData("Origin:Upstreams:0:Url", "https://x.io/v2/", "--Origin:Upstreams:0:Name=x.io", "--Origin:Upstreams:0:Url=https://x.io/v2/")]
    [InlineData("Origin:DefaultUpstream", "docker.io", "--Origin:DockerHub:Enabled=false", "--Origin:DefaultUpstream=docker.io")]
    [InlineData("Origin:MaxConcurrentFills", "0", "--Origin:MaxConcurrentFills=0")]
    [InlineData("Origin:FillQueueTimeout", "00:05:00", "--Origin:FillQueueTimeout=00:05:00")]
    [InlineData("Origin:UpstreamNotFoundCacheTime", "02:00:00", "--Origin:UpstreamNotFoundCacheTime=02:00:00")]
    [InlineData("Origin:UpstreamNotFoundCacheEntries", "0", "--Origin:UpstreamNotFoundCacheEntries=0")]
    [InlineData("Origin:TokenCacheEntries", "0", "--Origin:TokenCacheEntries=0")]
    [InlineData("Origin:TokenCacheMaxLifetime", "2.00:00:00", "--Origin:TokenCacheMaxLifetime=2.00:00:00")]
    [InlineData("Origin:Upstreams:0:TokenRealms:0", "https://auth.x.io/token", "--Origin:Upstreams:0:Name=x.io", "--Origin:Upstreams:0:Url=https://x.io", "--Origin:Upstreams:0:TokenRealms:0=https://auth.x.io/token")]
    [InlineData("Origin:MaxUploadSessions", "0", "--Origin:MaxUploadSessions=0")]
    [InlineData("Origin:MaxUploadSessionsPerClient", "2000", "--Origin:MaxUploadSessionsPerClient=2000")]
    [InlineData("Origin:MaxUploadBytesInFlight", "0", "--Origin:MaxUploadBytesInFlight=0")]
    [InlineData("Origin:Upstreams:1:Name", "reg-5000", "--Origin:Upstreams:0:Name=reg:5000", "--Origin:Upstreams:0:Url=https://a.io", "--Origin:Upstreams:1:Name=reg-5000", "--Origin:Upstreams:1:Url=https://b.io")]
    public async Task BadUpstreamSetting_FailsStart_NamingKeyAndValue(string key, string value, params string[] settings)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => OriginServer.StartAsync(settings));
        var line = Assert.Single(ex.Failures, f => f.Contains(key, StringComparison.Ordinal));
        Assert.Contains($"'{value}'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PasswordIsNeverInTheValidationMessage()
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => OriginServer.StartAsync(
            ["--Origin:Upstreams:0:Name=x.io", "--Origin:Upstreams:0:Url=http://x.io", "--Origin:Upstreams:0:Username=bot", "--Origin:Upstreams:0:Password=hunter2"]));
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UrlWithUserInfo_FailsStart_WithoutEchoingTheUserInfo()
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => OriginServer.StartAsync(
            ["--Origin:Upstreams:0:Name=x.io", "--Origin:Upstreams:0:Url=https://bot:hunter2@x.io", "--Origin:DefaultUpstream=https://bot:hunter3@x.io"]));
        Assert.Contains(ex.Failures, f => f.Contains("Origin:Upstreams:0:Url", StringComparison.Ordinal) && f.Contains("https://***@x.io", StringComparison.Ordinal));
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter3", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("bot:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerHub_SwitchedOff_IsNoUpstream_AndItsNsIsNameUnknown()
    {
        await using var origin = await OriginServer.StartAsync(["--Origin:DockerHub:Enabled=false"]);
        var catalog = origin.Services.GetRequiredService<UpstreamCatalog>();
        Assert.Empty(catalog.Registries);
        Assert.Null(catalog.Find("docker.io"));

        using var response = await origin.Client.GetAsync("/v2/library/alpine/manifests/latest?ns=docker.io");
        await OriginServer.AssertErrorAsync(response, System.Net.HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task DockerHub_ByDefault_IsAnUpstreamWhoseTokenRealmIsTrusted()
    {
        await using var origin = await OriginServer.StartAsync();
        var dockerHub = Assert.Single(origin.Services.GetRequiredService<UpstreamCatalog>().Registries);
        Assert.Equal("docker.io", dockerHub.Name);
        Assert.True(dockerHub.IsTrustedHost(new Uri("https://auth.docker.io/token")));
        Assert.False(dockerHub.IsTrustedHost(new Uri("https://auth.example.com/token")));
    }

    [Fact]
    public async Task UrlWithoutPath_AndHostRootSlash_AreAccepted()
    {
        await using var origin = await OriginServer.StartAsync(
        [
            "--Origin:Upstreams:0:Name=a.io", "--Origin:Upstreams:0:Url=https://a.io",
            "--Origin:Upstreams:1:Name=b.io:5000", "--Origin:Upstreams:1:Url=https://b.io:5000/",
        ]);
        Assert.Equal(3, origin.Services.GetRequiredService<UpstreamCatalog>().Registries.Count());
    }

    [Theory]
    [InlineData("docker.io", "library/busybox", "docker.io/library/busybox")]
    [InlineData("registry.example.com:5000", "team/app", "registry.example.com-5000/team/app")]
    [InlineData("GHCR.io", "org/x", "ghcr.io/org/x")]
    public void LocalRepository_KeepsPulledContentApart(string ns, string name, string expected) =>
        Assert.Equal(expected, UpstreamCatalog.LocalRepository(ns, name));
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Testing.Security;

namespace P2PRegistry.Hosting.Tests.Security;

/// <summary>
/// <see cref="ComponentTls"/> behind a real Kestrel listener on 127.0.0.1, with real TLS clients: which chain a listener
/// sends, and which client certificates it takes as the CA bundle on disk changes. Reloads are driven by a
/// <see cref="FakeTimeProvider"/>, so nothing waits on the clock.
/// </summary>
public sealed class ComponentTlsTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task ConfigureServer_LeafIssuedByAnIntermediate_SendsTheIntermediate_RootOnlyClientsConnect_AlsoAfterAReload()
    {
        using var root = new TestCertificateAuthority();
        using var intermediate = root.CreateIntermediate();
        var leaf = intermediate.Issue("server");
        var time = new FakeTimeProvider();
        using var tls = new ComponentTls(new TlsOptions { CertificatePath = leaf.CertificatePath, KeyPath = leaf.KeyPath, ReloadInterval = Interval }, "Test:Tls", time, new FakeLogger());
        await using var app = await StartAsync(tls);
        using var client = root.CreateHttpClient();

        // The certificate file holds the leaf, then the intermediate; the client trusts the root alone.
        Assert.Equal(intermediate.Root.Thumbprint, Assert.Single(await TestCertificateAuthority.ServedIntermediatesAsync(app.Port)).Thumbprint);
        Assert.Equal("ok", await client.GetStringAsync(app.Url));

        var replaced = intermediate.Replace(leaf);
        time.Advance(Interval);
        Assert.Equal(1, tls.ServerCertificate!.Reloads);
        Assert.Equal(replaced.Thumbprint, (await TestCertificateAuthority.ServedCertificateAsync(app.Port)).Thumbprint);
        Assert.Equal(intermediate.Root.Thumbprint, Assert.Single(await TestCertificateAuthority.ServedIntermediatesAsync(app.Port)).Thumbprint);
        Assert.Equal("ok", await client.GetStringAsync(app.Url));
    }

    [Fact]
    public async Task ConfigureServer_LeafAlone_WithoutItsIntermediate_RootOnlyClientsRefuse()
    {
        // The other side of the test above: a root-only client really needs the intermediate from the server.
        using var root = new TestCertificateAuthority();
        using var intermediate = root.CreateIntermediate();
        var leaf = intermediate.Issue("server");
        File.WriteAllText(leaf.CertificatePath, leaf.Certificate.ExportCertificatePem() + "\n");
        using var tls = new ComponentTls(new TlsOptions { CertificatePath = leaf.CertificatePath, KeyPath = leaf.KeyPath }, "Test:Tls", new FakeTimeProvider(), new FakeLogger());
        await using var app = await StartAsync(tls);
        using var client = root.CreateHttpClient();

        Assert.Empty(await TestCertificateAuthority.ServedIntermediatesAsync(app.Port));
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync(app.Url));
    }

    [Fact]
    public async Task ClientCaBundle_RewrittenWithANewCa_ItsClientIsAcceptedWithoutARestart_ABundleThatDoesNotParseKeepsTheOld()
    {
        using var authority = new TestCertificateAuthority();
        using var next = new TestCertificateAuthority("Next CA");
        var server = authority.Issue("server");
        var ours = authority.Issue("ours");
        var theirs = next.Issue("theirs");
        var bundle = Path.Combine(authority.Directory, "clients-ca.crt");
        File.Copy(authority.CaPath, bundle);
        var time = new FakeTimeProvider();
        var logger = new FakeLogger();
        using var tls = new ComponentTls(
            new TlsOptions { CertificatePath = server.CertificatePath, KeyPath = server.KeyPath, ClientCaPath = bundle, RequireClientCertificate = true, ReloadInterval = Interval },
            "Test:Tls", time, logger);
        await using var app = await StartAsync(tls);
        using var ourClient = authority.CreateHttpClient(ours);
        using var theirClient = authority.CreateHttpClient(theirs);

        Assert.Equal("ok", await ourClient.GetStringAsync(app.Url));
        await Assert.ThrowsAsync<HttpRequestException>(() => theirClient.GetStringAsync(app.Url));

        // Half a rotation: a bundle that does not parse. The old one stays in service; one warning says so.
        File.WriteAllText(bundle, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        time.Advance(Interval);
        time.Advance(Interval);
        var warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 9105);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("Test:Tls:ClientCaPath", warning.Message, StringComparison.Ordinal);
        Assert.Equal(0, tls.ClientTrust!.Reloads);
        Assert.Equal("ok", await ourClient.GetStringAsync(app.Url));
        await Assert.ThrowsAsync<HttpRequestException>(() => theirClient.GetStringAsync(app.Url));

        // The rotation proper: the new root joins the bundle; after the interval its client is accepted, the old CA's too.
        File.WriteAllText(bundle, File.ReadAllText(authority.CaPath) + File.ReadAllText(next.CaPath));
        time.Advance(Interval);
        Assert.Equal(1, tls.ClientTrust.Reloads);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 9104 && r.Message.Contains("1 -> 2 certificates", StringComparison.Ordinal));
        Assert.Equal("ok", await theirClient.GetStringAsync(app.Url));
        Assert.Equal("ok", await ourClient.GetStringAsync(app.Url));
    }

    [Fact]
    public void ClientCaPath_DefaultsToCaPath_OneReloaderForTheFile()
    {
        using var authority = new TestCertificateAuthority();
        using var shared = new ComponentTls(new TlsOptions { CaPath = authority.CaPath }, "Test:Tls", new FakeTimeProvider(), new FakeLogger());
        Assert.NotNull(shared.ServerTrust);
        Assert.Same(shared.ServerTrust, shared.ClientTrust);

        var other = Path.Combine(authority.Directory, "clients-ca.crt");
        File.Copy(authority.CaPath, other);
        using var apart = new ComponentTls(new TlsOptions { CaPath = authority.CaPath, ClientCaPath = other }, "Test:Tls", new FakeTimeProvider(), new FakeLogger());
        Assert.NotSame(apart.ServerTrust, apart.ClientTrust);
    }

    private static async Task<TestServer> StartAsync(ComponentTls tls)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(tls.ConfigureServer)));
        var app = builder.Build();
        app.MapGet("/", () => "ok");
        await app.StartAsync();
        var address = new Uri(app.Urls.First());
        return new TestServer(app, address.Port);
    }

    private sealed class TestServer(WebApplication app, int port) : IAsyncDisposable
    {
        public int Port => port;

        public Uri Url => new($"https://127.0.0.1:{port}/");

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}

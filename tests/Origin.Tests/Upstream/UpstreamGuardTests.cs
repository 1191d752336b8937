using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using P2PRegistry.Origin.Upstream;

namespace P2PRegistry.Origin.Tests.Upstream;

/// <summary>
/// The attacks an upstream (or whoever answers in its name) can make on the origin's credentials and network:
/// a challenge naming a token realm on another host, redirects to plain http, to a loopback name, to the
/// cloud metadata address. The registry runs on 127.0.0.1; "another host" runs on 127.0.0.2 (Linux routes all of
/// 127/8 to lo). Each refusal has a twin that allows the same thing by configuration, so the check can fail.
/// </summary>
public sealed class UpstreamGuardTests : IAsyncLifetime
{
    private const string User = "alice";
    private const string Password = "guard-s3cret";
    private Recorder _registry = null!;
    private Recorder _elsewhere = null!;

    /// <summary>What the registry answers 401 with / where it redirects blob GETs; set per test.</summary>
    private string _realm = "";
    private string _redirect = "";

    public async Task InitializeAsync()
    {
        _elsewhere = await Recorder.StartAsync("127.0.0.2", context => context.Request.Path.StartsWithSegments("/token")
            ? Results.Json(new { token = "tok", expires_in = 300 })
            : Results.Text("cdn body"));
        _registry = await Recorder.StartAsync("127.0.0.1", context =>
        {
            if (context.Request.Path.StartsWithSegments("/token"))
            {
                return Results.Json(new { token = "tok", expires_in = 300 });
            }

            if (context.Request.Path.StartsWithSegments("/cdn"))
            {
                return Results.Text("cdn body");
            }

            if (context.Request.Headers.Authorization.ToString() != "Bearer tok" && _realm.Length > 0)
            {
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{_realm}\",service=\"guard\"";
                return Results.StatusCode(401);
            }

            return context.Request.Path.Value!.Contains("/blobs/", StringComparison.Ordinal)
                ? Results.Redirect(_redirect, permanent: false, preserveMethod: true)
                : Results.Text("manifest");
        });
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _elsewhere.DisposeAsync();
    }

    private UpstreamClient Client(bool credentials = true, string[]? tokenRealms = null, bool allowInsecureRedirects = false, bool allowPrivateRedirects = false, IWebProxy? proxy = null)
    {
        var upstream = new UpstreamRegistry
        {
            Name = "guard.registry",
            Url = _registry.BaseAddress,
            Username = credentials ? User : null,
            Password = credentials ? Password : null,
            AllowHttp = true,
            TokenRealms = tokenRealms ?? [],
            AllowInsecureRedirects = allowInsecureRedirects,
            AllowPrivateRedirects = allowPrivateRedirects,
        };
        var http = new HttpClient(UpstreamConnector.CreateHandler(upstream, TimeSpan.FromSeconds(5), proxy ?? new WebProxy()));
        return new UpstreamClient(http, upstream, new TokenCache(TimeProvider.System), TimeProvider.System, NullLogger.Instance);
    }

    private static string Basic => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));

    [Fact]
    public async Task TokenRealmOnTheUpstreamsHost_GetsTheCredentials()
    {
        _realm = $"{_registry.BaseAddress}token";

        using var response = await Client().SendAsync(HttpMethod.Get, "team/app", "manifests/v1", [], default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Basic, Assert.Single(_registry.Requests, r => r.Path == "/token").Authorization);
    }

    [Fact]
    public async Task TokenRealmOnAnotherHost_IsAskedAnonymously_NeverSeesTheCredentials()
    {
        _realm = $"{_elsewhere.BaseAddress}token";

        // AllowPrivateRedirects only so that 127.0.0.2 may be dialled at all: the credential rule is what is tested.
        using var response = await Client(allowPrivateRedirects: true).SendAsync(HttpMethod.Get, "team/app", "manifests/v1", [], default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tokenRequest = Assert.Single(_elsewhere.Requests);
        Assert.Equal("/token", tokenRequest.Path);
        Assert.Equal("", tokenRequest.Authorization);
        Assert.DoesNotContain(_registry.Requests.Concat(_elsewhere.Requests), r => r.Authorization.StartsWith("Basic", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TokenRealmOnAnotherHost_ListedInTokenRealms_GetsTheCredentials()
    {
        _realm = $"{_elsewhere.BaseAddress}token";

        using var response = await Client(tokenRealms: ["127.0.0.2"]).SendAsync(HttpMethod.Get, "team/app", "manifests/v1", [], default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Basic, Assert.Single(_elsewhere.Requests).Authorization);
    }

    [Fact]
    public async Task TokenRealmOnAnotherHostAtAnInternalAddress_IsNotContacted()
    {
        _realm = $"{_elsewhere.BaseAddress}token";

        var error = await Assert.ThrowsAsync<UpstreamException>(() => Client().SendAsync(HttpMethod.Get, "team/app", "manifests/v1", [], default));

        Assert.Equal(UpstreamFailure.Refused, error.Failure);
        Assert.Empty(_elsewhere.Requests);
        Assert.DoesNotContain(Password, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedirectToPlainHttpOnAnotherHost_IsRefused_UnlessAllowInsecureRedirects()
    {
        _redirect = $"{_elsewhere.BaseAddress}cdn/blob";

        var error = await Assert.ThrowsAsync<UpstreamException>(() => Client(allowPrivateRedirects: true).SendAsync(HttpMethod.Get, "team/app", "blobs/sha256:aa", [], default));
        Assert.Equal(UpstreamFailure.Refused, error.Failure);
        Assert.Contains("plain http", error.Message, StringComparison.Ordinal);
        Assert.Empty(_elsewhere.Requests);

        using var allowed = await Client(allowInsecureRedirects: true, allowPrivateRedirects: true).SendAsync(HttpMethod.Get, "team/app", "blobs/sha256:aa", [], default);
        Assert.Equal("cdn body", await allowed.Content.ReadAsStringAsync());
        Assert.Equal("", Assert.Single(_elsewhere.Requests).Authorization);
    }

    [Fact]
    public async Task RedirectToAnInternalAddress_IsRefusedAtConnect_UnlessAllowPrivateRedirects()
    {
        _redirect = $"{_elsewhere.BaseAddress}cdn/blob";

        var error = await Assert.ThrowsAsync<UpstreamException>(() => Client(allowInsecureRedirects: true).SendAsync(HttpMethod.Get, "team/app", "blobs/sha256:aa", [], default));
        Assert.Equal(UpstreamFailure.Refused, error.Failure);
        Assert.Contains("127.0.0.2", error.Message, StringComparison.Ordinal);
        Assert.Empty(_elsewhere.Requests);

        using var allowed = await Client(allowInsecureRedirects: true, allowPrivateRedirects: true).SendAsync(HttpMethod.Get, "team/app", "blobs/sha256:aa", [], default);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task RedirectToAnInternalAddress_GoesOnlyThroughAConfiguredProxy_NeverDirectly()
    {
        // The proxy is the registry's own recorder (127.0.0.1, answers /cdn/blob): a connection to it is to another
        // host than the redirect names, and allowed only because it IS the proxy the handler uses for that URI.
        _redirect = $"{_elsewhere.BaseAddress}cdn/blob";

        using var proxied = await Client(allowInsecureRedirects: true, proxy: new WebProxy(_registry.BaseAddress)).SendAsync(HttpMethod.Get, "team/app", "blobs/sha256:aa", [], default);
        Assert.Equal("cdn body", await proxied.Content.ReadAsStringAsync());
        Assert.Contains(_registry.Requests, r => r.Path == "/cdn/blob");
        Assert.Empty(_elsewhere.Requests);

        // The same proxy configured, but bypassed for 127.0.0.2: the direct connection is judged by its address.
        var bypassing = new WebProxy(_registry.BaseAddress, BypassOnLocal: false, BypassList: [@"127\.0\.0\.2"]);
        var error = await Assert.ThrowsAsync<UpstreamException>(() => Client(allowInsecureRedirects: true, proxy: bypassing).SendAsync(HttpMethod.Get, "team/app", "blobs/sha256:aa", [], default));
        Assert.Equal(UpstreamFailure.Refused, error.Failure);
        Assert.Contains("127.0.0.2", error.Message, StringComparison.Ordinal);
        Assert.Empty(_elsewhere.Requests);
    }

    [Fact]
    public void NoProxyConfigured_NoConnectionCountsAsTheProxy_WhateverItsHost()
    {
        // The old rule took any host mismatch for a proxy; these would have skipped the internal-address check.
        Assert.False(UpstreamConnector.IsProxyConnection(new WebProxy(), new Uri("http://registry.example.com/x"), new DnsEndPoint("127.0.0.2", 80)));
        Assert.False(UpstreamConnector.IsProxyConnection(new WebProxy(), new Uri("http://registry.example.com/x"), new DnsEndPoint("169.254.169.254", 80)));
    }

    [Fact]
    public void AConfiguredProxy_CountsOnlyAtItsOwnHostAndPort()
    {
        var proxy = new WebProxy(new Uri("http://proxy.internal:3128"));
        var requested = new Uri("https://registry.example.com/v2/");
        Assert.True(UpstreamConnector.IsProxyConnection(proxy, requested, new DnsEndPoint("proxy.internal", 3128)));
        Assert.False(UpstreamConnector.IsProxyConnection(proxy, requested, new DnsEndPoint("proxy.internal", 80)));
        Assert.False(UpstreamConnector.IsProxyConnection(proxy, requested, new DnsEndPoint("169.254.169.254", 3128)));
    }

    [Fact]
    public async Task RedirectToANameThatResolvesToLoopback_IsJudgedByTheResolvedAddress()
    {
        // "localhost" is no IP literal: only the address DNS gives (127.0.0.1 / ::1) betrays it. The upstream itself
        // is 127.0.0.1 by its literal, so the same server is allowed under that name and refused under this one.
        _redirect = $"http://localhost:{_registry.BaseAddress.Port}/cdn/blob";

        var error = await Assert.ThrowsAsync<UpstreamException>(() => Client(allowInsecureRedirects: true).SendAsync(HttpMethod.Get, "team/app", "blobs/sha256:aa", [], default));

        Assert.Equal(UpstreamFailure.Refused, error.Failure);
        Assert.DoesNotContain(_registry.Requests, r => r.Path.StartsWith("/cdn", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RedirectToTheCloudMetadataAddress_IsRefusedBeforeAnyConnection()
    {
        _redirect = "http://169.254.169.254/latest/meta-data/iam/";

        var error = await Assert.ThrowsAsync<UpstreamException>(() => Client(allowInsecureRedirects: true).SendAsync(HttpMethod.Get, "team/app", "blobs/sha256:aa", [], default));

        Assert.Equal(UpstreamFailure.Refused, error.Failure);
        Assert.Contains("169.254.169.254", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedirectToAUrlWithUserInfo_IsRefused_AndTheUserInfoIsNotEchoed()
    {
        _redirect = $"https://mallory:hunter2@{_elsewhere.BaseAddress.Authority}/cdn/blob";

        var error = await Assert.ThrowsAsync<UpstreamException>(() => Client(allowInsecureRedirects: true, allowPrivateRedirects: true).SendAsync(HttpMethod.Get, "team/app", "blobs/sha256:aa", [], default));

        Assert.Equal(UpstreamFailure.Refused, error.Failure);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
        Assert.Empty(_elsewhere.Requests);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.9.9.9", true)]
    [InlineData("::1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("ff02::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("192.0.0.8", true)]
    [InlineData("198.18.0.1", true)]
    [InlineData("198.19.255.255", true)]
    [InlineData("100.127.255.255", true)]
    [InlineData("64:ff9b::a9fe:a9fe", true)]
    [InlineData("64:ff9b::10.0.0.1", true)]
    [InlineData("64:ff9b::127.0.0.1", true)]
    [InlineData("2002:a9fe:a9fe::1", true)]
    [InlineData("2002:c0a8:0101::1", true)]
    [InlineData("2002:7f00:0001::", true)]
    [InlineData("::10.0.0.1", true)]
    [InlineData("::ffff:169.254.169.254", true)]
    [InlineData("::ffff:198.18.0.1", true)]
    [InlineData("64:ff9b::8.8.8.8", false)]
    [InlineData("2002:0808:0808::1", false)]
    [InlineData("::8.8.8.8", false)]
    [InlineData("198.20.0.1", false)]
    [InlineData("192.0.1.1", false)]
    [InlineData("100.63.255.255", false)]
    [InlineData("172.32.0.1", false)]
    [InlineData("100.128.0.1", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("104.18.0.1", false)]
    [InlineData("2606:4700::1", false)]
    [InlineData("::ffff:8.8.8.8", false)]
    public void IsInternal_ClassifiesAddresses(string address, bool expected) =>
        Assert.Equal(expected, UpstreamConnector.IsInternal(IPAddress.Parse(address)));

    [Theory]
    [InlineData("registry.example.com", 443, true)]
    [InlineData("REGISTRY.example.com", 5000, true)]
    [InlineData("auth.example.com", 443, true)]
    [InlineData("token.example.com", 8443, true)]
    [InlineData("token.example.com", 443, false)]
    [InlineData("evil.example.com", 443, false)]
    [InlineData("example.com", 443, false)]
    public void IsTrustedHost_OwnHostAnyPort_TokenRealmsByHostOrHostAndPort(string host, int port, bool expected)
    {
        var upstream = new UpstreamRegistry { Name = "r", Url = new Uri("https://registry.example.com"), TokenRealms = ["auth.example.com", "token.example.com:8443"] };
        Assert.Equal(expected, upstream.IsTrustedHost(host, port));
    }

    /// <summary>A server on one loopback address that records each request's path and Authorization header.</summary>
    private sealed class Recorder : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Recorder(WebApplication app, Uri baseAddress)
        {
            _app = app;
            BaseAddress = baseAddress;
        }

        public Uri BaseAddress { get; }

        public ConcurrentQueue<(string Path, string Authorization)> Requests { get; } = new();

        public static async Task<Recorder> StartAsync(string address, Func<HttpContext, IResult> handle)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls($"http://{address}:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            Recorder? self = null;
            app.Run(async context =>
            {
                self!.Requests.Enqueue((context.Request.Path.Value ?? "", context.Request.Headers.Authorization.ToString()));
                await handle(context).ExecuteAsync(context);
            });
            await app.StartAsync();
            self = new Recorder(app, new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/"));
            return self;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}

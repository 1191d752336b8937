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
/// The token flow against an in-process registry that behaves like Docker Hub's (401 + Bearer challenge, a
/// token service, CDN redirects, 429). The same flow against a real docker-registry with token auth runs in
/// the integration tests; this one provokes the edge cases a real registry cannot be made to produce.
/// </summary>
public sealed class UpstreamClientTests : IAsyncLifetime
{
    private WebApplication? _app;
    private Uri _base = null!;
    private int _tokenRequests;
    private int _tokenSerial;
    private readonly HashSet<string> _validTokens = [];
    private string? _cdnAuthorization = "not called";
    private int _rejectValidTokensRemaining;
    private int _rateLimitRemaining;
    private string _retryAfter = "0";
    private string? _requiredBasic;
    private const int TokenLifetimeSeconds = 300;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapGet("/token", (HttpContext context) =>
        {
            Interlocked.Increment(ref _tokenRequests);
            if (_requiredBasic is not null && context.Request.Headers.Authorization.ToString() != "Basic " + _requiredBasic)
            {
                return Results.StatusCode(401);
            }

            var token = $"tok-{Interlocked.Increment(ref _tokenSerial)}-{context.Request.Query["scope"]}";
            lock (_validTokens)
            {
                _validTokens.Add(token);
            }

            return Results.Json(new { token, expires_in = TokenLifetimeSeconds });
        });
        _app.MapGet("/cdn/{name}", (HttpContext context, string name) =>
        {
            _cdnAuthorization = context.Request.Headers.Authorization.ToString();
            return Results.Text("blob " + name);
        });
        _app.MapMethods("/v2/{**rest}", ["GET", "HEAD"], (HttpContext context, string rest) =>
        {
            if (Interlocked.Decrement(ref _rateLimitRemaining) >= 0)
            {
                context.Response.Headers.RetryAfter = _retryAfter;
                return Results.StatusCode(429);
            }

            var header = context.Request.Headers.Authorization.ToString();
            bool valid;
            lock (_validTokens)
            {
                valid = header.StartsWith("Bearer ", StringComparison.Ordinal) && _validTokens.Contains(header["Bearer ".Length..]);
            }

            if (valid && Interlocked.Decrement(ref _rejectValidTokensRemaining) >= 0)
            {
                valid = false;
            }

            if (!valid)
            {
                var repository = rest[..rest.IndexOf('/', rest.IndexOf('/') + 1)];
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{_base}token\",service=\"test.registry\",scope=\"repository:{repository}:pull\"";
                return Results.StatusCode(401);
            }

            if (rest.Contains("/blobs/", StringComparison.Ordinal))
            {
                return Results.Redirect($"/cdn/{rest[(rest.LastIndexOf('/') + 1)..]}", permanent: false, preserveMethod: true);
            }

            return Results.Text("manifest of " + rest);
        });
        await _app.StartAsync();
        _base = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    // The fake registry and its token realm are plain http: allowed here unless a test says otherwise.
    private UpstreamClient Client(string? user = null, string? password = null, TimeSpan? maxRetryAfter = null, Uri? url = null, bool allowHttp = true)
    {
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(2) });
        var upstream = new UpstreamRegistry { Name = "test.registry", Url = url ?? _base, Username = user, Password = password, AllowHttp = allowHttp };
        return new UpstreamClient(http, upstream, new TokenCache(TimeProvider.System), TimeProvider.System, NullLogger.Instance, maxRetryAfter);
    }

    [Fact]
    public async Task SendAsync_BearerChallenge_FetchesTokenOnceAndReusesIt()
    {
        var client = Client();

        using (var first = await client.SendAsync(HttpMethod.Get, "library/alpine", "manifests/latest", ["application/json"], default))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("manifest of library/alpine/manifests/latest", await first.Content.ReadAsStringAsync());
        }

        using (var second = await client.SendAsync(HttpMethod.Get, "library/alpine", "manifests/3.20", ["application/json"], default))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        Assert.Equal(1, _tokenRequests);
    }

    [Fact]
    public async Task SendAsync_TokenRejectedOnce_FetchesAFreshTokenAndSucceeds()
    {
        var client = Client();
        _rejectValidTokensRemaining = 1;

        using var response = await client.SendAsync(HttpMethod.Get, "library/alpine", "manifests/latest", [], default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, _tokenRequests);
    }

    [Fact]
    public async Task SendAsync_TokenRejectedEveryTime_GivesUpWithUnauthorized()
    {
        var client = Client();
        _rejectValidTokensRemaining = 1000;

        var error = await Assert.ThrowsAsync<UpstreamException>(() => client.SendAsync(HttpMethod.Get, "library/alpine", "manifests/latest", [], default));

        Assert.Equal(UpstreamFailure.Unauthorized, error.Failure);
        Assert.Equal(2, _tokenRequests);
    }

    [Fact]
    public async Task SendAsync_BlobRedirect_IsFollowedWithoutTheToken()
    {
        var client = Client();

        using var response = await client.SendAsync(HttpMethod.Get, "library/alpine", "blobs/sha256:abc", [], default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("blob sha256:abc", await response.Content.ReadAsStringAsync());
        Assert.Equal("", _cdnAuthorization);
    }

    [Fact]
    public async Task SendAsync_CredentialsConfigured_AreSentToTheTokenService()
    {
        _requiredBasic = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret"));

        using var ok = await Client("alice", "s3cret").SendAsync(HttpMethod.Get, "team/app", "manifests/v1", [], default);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        var wrong = await Assert.ThrowsAsync<UpstreamException>(() => Client("alice", "wrong").SendAsync(HttpMethod.Get, "team/app", "manifests/v1", [], default));
        Assert.Equal(UpstreamFailure.Unauthorized, wrong.Failure);
        Assert.Contains("test.registry", wrong.Message);
        Assert.DoesNotContain("wrong", wrong.Message);
    }

    [Fact]
    public async Task SendAsync_PlainHttpTokenRealmWithoutAllowHttp_IsRefused_NoCredentialsSent()
    {
        _requiredBasic = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret"));

        var refused = await Assert.ThrowsAsync<UpstreamException>(() => Client("alice", "s3cret", allowHttp: false).SendAsync(HttpMethod.Get, "team/app", "manifests/v1", [], default));

        Assert.Equal(UpstreamFailure.Unauthorized, refused.Failure);
        Assert.Contains("test.registry", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"{_base}token", refused.Message, StringComparison.Ordinal);
        Assert.Contains("plain http", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, _tokenRequests);

        // The same realm is used when the upstream is allowed http.
        using var allowed = await Client("alice", "s3cret").SendAsync(HttpMethod.Get, "team/app", "manifests/v1", [], default);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(1, _tokenRequests);
    }

    [Fact]
    public async Task SendAsync_RateLimited_WaitsRetryAfterThenSucceeds()
    {
        _rateLimitRemaining = 2;
        _retryAfter = "0";

        using var response = await Client().SendAsync(HttpMethod.Get, "library/alpine", "manifests/latest", [], default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SendAsync_RetryAfterLongerThanWeWait_FailsFastAsRateLimited()
    {
        _rateLimitRemaining = 1;
        _retryAfter = "120";

        var error = await Assert.ThrowsAsync<UpstreamException>(() => Client(maxRetryAfter: TimeSpan.FromSeconds(1)).SendAsync(HttpMethod.Get, "library/alpine", "manifests/latest", [], default));

        Assert.Equal(UpstreamFailure.RateLimited, error.Failure);
    }

    [Fact]
    public async Task SendAsync_UpstreamDown_FailsAsUnreachable()
    {
        var closedPort = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closedPort.Start();
        var port = ((IPEndPoint)closedPort.LocalEndpoint).Port;
        closedPort.Stop();

        var error = await Assert.ThrowsAsync<UpstreamException>(() => Client(url: new Uri($"http://127.0.0.1:{port}/")).SendAsync(HttpMethod.Get, "a/b", "manifests/c", [], default));

        Assert.Equal(UpstreamFailure.Unreachable, error.Failure);
    }

    [Fact]
    public void TokenCache_ExpiresTokensBeforeTheirStatedLifetime()
    {
        var time = new ManualTime();
        var cache = new TokenCache(time);
        cache.Set("k", "t", TimeSpan.FromSeconds(60));

        Assert.True(cache.TryGet("k", out var token));
        Assert.Equal("t", token);
        time.Advance(TimeSpan.FromSeconds(49));
        Assert.True(cache.TryGet("k", out _));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(cache.TryGet("k", out _));

        cache.Set("short", "t", TimeSpan.FromSeconds(5));
        Assert.False(cache.TryGet("short", out _));
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}

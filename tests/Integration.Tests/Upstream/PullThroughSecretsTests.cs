using System.Net;

namespace P2PRegistry.Integration.Tests.Upstream;

/// <summary>
/// Pull-through against a Docker-Hub-like upstream (docker-registry with token auth, real processes): no secret in
/// anything the origin says — its whole output at Debug level and its error bodies — through a pull with
/// credentials, a start-up refused for a URL with user info, and credentials the token service rejects; and
/// upstream 404s answered from the origin's negative cache instead of the upstream. The kit checks every output line
/// of every origin against every secret of the run (<see cref="TestSecrets"/>); this test's own scan adds what the
/// kit does not see — the error bodies — and proves the scanned output holds the messages about those credentials.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class PullThroughSecretsTests : IClassFixture<UpstreamFixture>
{
    private const string Ns = "?ns=registry.example.com%3A5000";
    private const string WrongPassword = "wr0ng-Pa55word-7f3a";
    private readonly UpstreamFixture _fixture;
    private readonly ITestOutputHelper _output;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public PullThroughSecretsTests(UpstreamFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Attach(output);
    }

    [Fact]
    public async Task OriginOutputAndErrorBodies_ThroughAPullABadConfigAndAnAuthFailure_HoldNoSecret()
    {
        var scan = new SecretScan();
        var upstream = _fixture.Registry.BaseAddress;

        // 1. A pull with credentials: token flow, manifest and every blob, at Debug level.
        await using (var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            ExtraArguments = UpstreamFixture.OriginArguments(upstream, UpstreamFixture.Password, "--Logging:LogLevel:Default=Debug"),
            OnOutputLine = scan.Collect("origin (pull)", Log),
        }))
        {
            using var manifest = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/manifests/v1{Ns}"));
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            foreach (var digest in _fixture.Image.BlobDigests)
            {
                using var blob = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/blobs/{digest}{Ns}"));
                Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
            }

            using var missing = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/manifests/nope{Ns}"));
            scan.Add("error body (missing)", await missing.Content.ReadAsStringAsync());
            await origin.StopAsync();
        }

        // 2. A start-up refused: the upstream URL carries user info (and DefaultUpstream is a URL with a password too).
        var userInfoUrl = $"http://{UpstreamFixture.Username}:{UpstreamFixture.Password}@{upstream.Authority}/";
        var refusedStart = await Assert.ThrowsAnyAsync<Exception>(() => OriginProcess.StartAsync(new OriginOptions
        {
            ExtraArguments =
            [
                $"--Origin:Upstreams:0:Name={UpstreamFixture.Name}",
                $"--Origin:Upstreams:0:Url={userInfoUrl}",
                "--Origin:Upstreams:0:AllowHttp=true",
                $"--Origin:DefaultUpstream=https://{UpstreamFixture.Username}:{WrongPassword}@example.com",
            ],
            OnOutputLine = scan.Collect("origin (bad config)", Log),
        }));
        // The kit's own message repeats the command line (which holds the secret by construction): only the origin's
        // output is scanned, and it must have said what is wrong.
        Assert.Contains(refusedStart.Message.Split('\n'), l => l.Contains("Origin:Upstreams:0:Url", StringComparison.Ordinal) && l.Contains("***@", StringComparison.Ordinal));

        // 3. Credentials the token service rejects.
        await using (var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            ExtraArguments = UpstreamFixture.OriginArguments(upstream, WrongPassword, "--Logging:LogLevel:Default=Debug"),
            OnOutputLine = scan.Collect("origin (wrong password)", Log),
        }))
        {
            using var denied = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/team/other/manifests/v1{Ns}"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, denied.StatusCode);
            var body = await denied.Content.ReadAsStringAsync();
            Assert.Contains("rejected", body, StringComparison.Ordinal);
            scan.Add("error body (wrong password)", body);
            await origin.StopAsync();
        }

        _output.WriteLine($"scanned {scan.Count} lines");
        Assert.Contains(scan.Lines, l => l.Source == "origin (bad config)" && l.Line.Contains("Origin:Upstreams:0:Url", StringComparison.Ordinal));
        Assert.Contains(scan.Lines, l => l.Source == "origin (wrong password)" && l.Line.Contains("credentials rejected", StringComparison.Ordinal));
        scan.AssertNoneOf([UpstreamFixture.Password, WrongPassword], [UpstreamFixture.Username]);
    }

    [Fact]
    public async Task MissingManifestAndBlob_Pulled20Times_ReachTheUpstreamOnce_UnlessTheCacheIsOff()
    {
        var missingBlob = "sha256:" + new string('0', 63) + "1";
        var manifestPath = "/v2/team/app/manifests/no-such-tag";
        var blobPath = $"/v2/team/app/blobs/{missingBlob}";
        int UpstreamNotFound(string path) => _fixture.Registry.CountRequests("HEAD", path, 404) + _fixture.Registry.CountRequests("GET", path, 404);

        await using (var origin = await OriginProcess.StartAsync(new OriginOptions { ExtraArguments = UpstreamFixture.OriginArguments(_fixture.Registry.BaseAddress), OnOutputLine = Log }))
        {
            var manifestBefore = UpstreamNotFound(manifestPath);
            var blobBefore = UpstreamNotFound(blobPath);
            for (var i = 0; i < 20; i++)
            {
                using var manifest = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/manifests/no-such-tag{Ns}"));
                Assert.Equal(HttpStatusCode.NotFound, manifest.StatusCode);
                using var blob = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/blobs/{missingBlob}{Ns}"));
                Assert.Equal(HttpStatusCode.NotFound, blob.StatusCode);
            }

            Assert.Equal(1, UpstreamNotFound(manifestPath) - manifestBefore);
            Assert.Equal(1, UpstreamNotFound(blobPath) - blobBefore);
        }

        await using (var origin = await OriginProcess.StartAsync(new OriginOptions { ExtraArguments = UpstreamFixture.OriginArguments(_fixture.Registry.BaseAddress, UpstreamFixture.Password, "--Origin:UpstreamNotFoundCacheTime=00:00:00"), OnOutputLine = Log }))
        {
            var before = UpstreamNotFound(manifestPath);
            for (var i = 0; i < 5; i++)
            {
                using var manifest = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/manifests/no-such-tag{Ns}"));
                Assert.Equal(HttpStatusCode.NotFound, manifest.StatusCode);
            }

            Assert.Equal(5, UpstreamNotFound(manifestPath) - before);
        }
    }

    private void Log(string line)
    {
        try
        {
            _output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using P2PRegistry.Core.Content;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Origin.Tests.Registry;

public sealed class PushAuthTests
{
    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response)
    {
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal("Basic realm=\"p2pregistry\"", response.Headers.WwwAuthenticate.Single().ToString());
    }

    private static async Task<HttpResponseMessage> SendAsync(OriginServer origin, HttpMethod method, string url, AuthenticationHeaderValue? auth, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Authorization = auth;
        return await origin.Client.SendAsync(request);
    }

    [Fact]
    public async Task Push_WithoutOrWrongCredentials_401_WithCredentials_Works_PullsAnonymous()
    {
        await using var origin = await OriginServer.StartAsync(["--Origin:Push:Username=pusher", "--Origin:Push:Password=s3cret"]);
        var good = Basic("pusher", "s3cret");

        using (var none = await SendAsync(origin, HttpMethod.Post, "/v2/auth/img/blobs/uploads/", null))
        {
            await AssertUnauthorizedAsync(none);
        }

        using (var wrong = await SendAsync(origin, HttpMethod.Post, "/v2/auth/img/blobs/uploads/", Basic("pusher", "nope")))
        {
            await AssertUnauthorizedAsync(wrong);
        }

        using (var garbage = await SendAsync(origin, HttpMethod.Post, "/v2/auth/img/blobs/uploads/", new AuthenticationHeaderValue("Basic", "!!!")))
        {
            await AssertUnauthorizedAsync(garbage);
        }

        // Version check: 401 without credentials (how Docker-style clients learn to send them), 200 with.
        using (var ping = await origin.Client.GetAsync("/v2/"))
        {
            await AssertUnauthorizedAsync(ping);
        }

        using (var ping = await SendAsync(origin, HttpMethod.Get, "/v2/", good))
        {
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        }

        var content = OriginServer.RandomBytes(1000, 31);
        var digest = Digest.Compute(content);
        using (var post = await SendAsync(origin, HttpMethod.Post, $"/v2/auth/img/blobs/uploads/?digest={digest.Value}", good, OriginServer.Bytes(content)))
        {
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        }

        var manifest = OriginServer.ImageManifest(digest, 1000, digest, 1000);
        using (var unauthorizedManifest = await SendAsync(origin, HttpMethod.Put, "/v2/auth/img/manifests/v1", null, new ByteArrayContent(manifest)))
        {
            await AssertUnauthorizedAsync(unauthorizedManifest);
        }

        using (var put = await SendAsync(origin, HttpMethod.Put, "/v2/auth/img/manifests/v1", good, new ByteArrayContent(manifest)))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        // Pulls need nothing.
        using (var blob = await origin.Client.GetAsync($"/v2/auth/img/blobs/{digest.Value}"))
        {
            Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
        }

        using (var pulled = await origin.Client.GetAsync("/v2/auth/img/manifests/v1"))
        {
            Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
        }

        using (var tags = await origin.Client.GetAsync("/v2/auth/img/tags/list"))
        {
            Assert.Equal(HttpStatusCode.OK, tags.StatusCode);
        }

        using (var delete = await SendAsync(origin, HttpMethod.Delete, $"/v2/auth/img/blobs/{digest.Value}", null))
        {
            await AssertUnauthorizedAsync(delete);
        }
    }

    [Fact]
    public async Task PasswordFile_TrailingNewlineTrimmed()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "from-file\n");
            await using var origin = await OriginServer.StartAsync(["--Origin:Push:Username=ci", $"--Origin:Push:PasswordFile={file}"]);
            using var ok = await SendAsync(origin, HttpMethod.Post, "/v2/auth/file/blobs/uploads/", Basic("ci", "from-file"));
            Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
            using var wrong = await SendAsync(origin, HttpMethod.Post, "/v2/auth/file/blobs/uploads/", Basic("ci", "from-file\n"));
            await AssertUnauthorizedAsync(wrong);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Default_NoCredentialSource_PushRefused401_PullsAndVersionCheckStillWork()
    {
        // Only an explicit --Origin:Push: argument turns off OriginServer's test default of anonymous push.
        await using var origin = await OriginServer.StartAsync(["--Origin:Push:AllowAnonymous=false"]);
        using (var push = await SendAsync(origin, HttpMethod.Post, "/v2/anon/img/blobs/uploads/", null))
        {
            await AssertUnauthorizedAsync(push);
        }

        using (var withCredentials = await SendAsync(origin, HttpMethod.Post, "/v2/anon/img/blobs/uploads/", Basic("someone", "anything")))
        {
            await AssertUnauthorizedAsync(withCredentials);
        }

        // Nothing to log in with: the version check does not challenge, so pull clients are not sent looking for credentials.
        using (var ping = await origin.Client.GetAsync("/v2/"))
        {
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        }

        using var tags = await origin.Client.GetAsync("/v2/anon/img/tags/list");
        await OriginServer.AssertErrorAsync(tags, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task HtpasswdUsers_InsidePrefix_Push_OutsidePrefix_403Denied_LegacyUserEverywhere()
    {
        using var directory = new TempDirectory("htpasswd");
        var file = directory.Combine("users.htpasswd");
        await File.WriteAllTextAsync(file, $"alice:{Hash("wonder")}\nmallory:{Hash("mischief")}\n");
        await using var origin = await OriginServer.StartAsync(
        [
            $"--Origin:Push:HtpasswdFile={file}",
            "--Origin:Push:Users:alice:Prefixes:0=team/",
            "--Origin:Push:Users:alice:Prefixes:1=tools/lint",
            "--Origin:Push:Username=ci",
            "--Origin:Push:Password=ci-secret",
        ]);

        foreach (var repository in new[] { "team/app", "team/sub/app", "tools/lint" })
        {
            using var allowed = await SendAsync(origin, HttpMethod.Post, $"/v2/{repository}/blobs/uploads/", Basic("alice", "wonder"));
            Assert.Equal(HttpStatusCode.Accepted, allowed.StatusCode);
        }

        foreach (var repository in new[] { "teamster/app", "tools/lint-extra", "other/team/app" })
        {
            using var denied = await SendAsync(origin, HttpMethod.Post, $"/v2/{repository}/blobs/uploads/", Basic("alice", "wonder"));
            await OriginServer.AssertErrorAsync(denied, HttpStatusCode.Forbidden, "DENIED");
        }

        // A user with no prefixes configured may push nowhere; the single configured user everywhere.
        using (var nowhere = await SendAsync(origin, HttpMethod.Put, "/v2/team/app/manifests/v1", Basic("mallory", "mischief"), new ByteArrayContent("{}"u8.ToArray())))
        {
            await OriginServer.AssertErrorAsync(nowhere, HttpStatusCode.Forbidden, "DENIED");
        }

        using (var everywhere = await SendAsync(origin, HttpMethod.Post, "/v2/anything/at/all/blobs/uploads/", Basic("ci", "ci-secret")))
        {
            Assert.Equal(HttpStatusCode.Accepted, everywhere.StatusCode);
        }

        using (var wrong = await SendAsync(origin, HttpMethod.Post, "/v2/team/app/blobs/uploads/", Basic("alice", "wonderland")))
        {
            await AssertUnauthorizedAsync(wrong);
        }

        // With credentials configured, the version check challenges an anonymous client.
        using var ping = await origin.Client.GetAsync("/v2/");
        await AssertUnauthorizedAsync(ping);
    }

    [Fact]
    public async Task BruteForce_Throttled429WithRetryAfter_EvenTheRightPasswordThen_OtherClientsUnaffected()
    {
        using var directory = new TempDirectory("htpasswd");
        var file = directory.Combine("users.htpasswd");
        await File.WriteAllTextAsync(file, $"alice:{Hash("wonder")}\n");
        await using var origin = await OriginServer.StartAsync(
            [$"--Origin:Push:HtpasswdFile={file}", "--Origin:Push:Users:alice:Prefixes:0=*", "--Origin:Push:MaxFailedAttempts=5", "--Origin:Push:FailureWindow=00:10:00"]);

        var statuses = new List<HttpStatusCode>();
        for (var guess = 0; guess < 12; guess++)
        {
            using var response = await SendAsync(origin, HttpMethod.Post, "/v2/team/app/blobs/uploads/", Basic("alice", $"guess-{guess}"));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await OriginServer.AssertErrorAsync(response, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
                var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(retryAfter, 1, 600);
            }
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 7)), statuses);

        // The right password no longer helps from this address: guesses are not checked at all.
        using (var right = await SendAsync(origin, HttpMethod.Post, "/v2/team/app/blobs/uploads/", Basic("alice", "wonder")))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        }

        // Pulls are not affected.
        using (var pull = await origin.Client.GetAsync("/v2/team/app/tags/list"))
        {
            await OriginServer.AssertErrorAsync(pull, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        }
    }

    private static string Hash(string password) => BCrypt.Net.BCrypt.HashPassword(password, BCrypt.Net.BCrypt.GenerateSalt(4, 'y'));
}

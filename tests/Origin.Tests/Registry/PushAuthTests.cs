using System.Net;
using System.Net.Http.Headers;
using System.Text;
using P2PRegistry.Core.Content;

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
}

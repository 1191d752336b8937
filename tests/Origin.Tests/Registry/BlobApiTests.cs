using System.Net;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Tests.Registry;

public sealed class BlobApiTests(OriginFixture fixture) : IClassFixture<OriginFixture>
{
    private readonly OriginServer _origin = fixture.Server;

    private async Task<(Digest Digest, byte[] Content)> Push2048Async(string name)
    {
        var content = OriginServer.RandomBytes(2048, 2048);
        return (await _origin.PushBlobAsync(name, content), content);
    }

    [Fact]
    public async Task GetBase_Answers200EmptyObjectWithApiVersion()
    {
        using var response = await _origin.Client.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-API-Version").Single());
        using var noSlash = await _origin.Client.GetAsync("/v2");
        Assert.Equal(HttpStatusCode.OK, noSlash.StatusCode);
    }

    [Fact]
    public async Task HeadBlob_HasLengthDigestRangesAndNoBody()
    {
        var (digest, _) = await Push2048Async("blobs/head");
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/blobs/head/blobs/{digest.Value}");
        using var response = await _origin.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2048, response.Content.Headers.ContentLength);
        Assert.Equal(digest.Value, response.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal("bytes", response.Headers.AcceptRanges.Single());
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetBlob_WholeBlob_ExactBytesNeverCompressed()
    {
        var (digest, content) = await Push2048Async("blobs/get");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/blobs/get/blobs/{digest.Value}");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, deflate, br");
        using var response = await _origin.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(digest.Value, response.Headers.GetValues("Docker-Content-Digest").Single());
    }

    // The OCI conformance table on a 2048-byte blob (REGISTRY.md, Agent item 4).
    [Theory]
    [InlineData("bytes=500-1499", 206, "bytes 500-1499/2048", 500, 1000)]
    [InlineData("bytes=500-", 206, "bytes 500-2047/2048", 500, 1548)]
    [InlineData("bytes=-500", 206, "bytes 1548-2047/2048", 1548, 500)]
    [InlineData("bytes=2000-5000", 206, "bytes 2000-2047/2048", 2000, 48)]
    [InlineData("bytes=500-0", 416, "bytes */2048", 0, 0)]
    [InlineData("bytes=5000-10000", 416, "bytes */2048", 0, 0)]
    [InlineData("bytes=0-1,5-6", 200, null, 0, 2048)]
    public async Task GetBlob_RangeTable(string range, int status, string? contentRange, int offset, int length)
    {
        var (digest, content) = await Push2048Async("blobs/range");
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            using var request = new HttpRequestMessage(method, $"/v2/blobs/range/blobs/{digest.Value}");
            request.Headers.TryAddWithoutValidation("Range", range);
            using var response = await _origin.Client.SendAsync(request);
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal(contentRange, response.Content.Headers.TryGetValues("Content-Range", out var values) ? values.Single() : null);
            Assert.Equal(length, response.Content.Headers.ContentLength);
            var body = await response.Content.ReadAsByteArrayAsync();
            if (method == HttpMethod.Get)
            {
                Assert.Equal(content.AsSpan(offset, length).ToArray(), body);
            }
            else
            {
                Assert.Empty(body);
            }
        }
    }

    [Fact]
    public async Task GetBlob_Unknown_404BlobUnknown()
    {
        var missing = Digest.Compute("not pushed"u8);
        using var response = await _origin.Client.GetAsync($"/v2/blobs/missing/blobs/{missing.Value}");
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task GetBlob_StoredInAnotherRepositoryOnly_404()
    {
        var (digest, _) = await Push2048Async("blobs/owner");
        using var response = await _origin.Client.GetAsync($"/v2/blobs/stranger/blobs/{digest.Value}");
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Theory]
    [InlineData("sha256:xyz")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("nocolon")]
    [InlineData("sha256:")]
    public async Task GetBlob_MalformedDigest_400DigestInvalid(string digest)
    {
        using var response = await _origin.Client.GetAsync($"/v2/blobs/bad/blobs/{digest}");
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task DeleteBlob_RemovesRepositoryLink_202ThenGone()
    {
        var (digest, _) = await Push2048Async("blobs/delete");
        var (other, _) = await Push2048Async("blobs/keeps");
        Assert.Equal(digest, other);

        using var delete = await _origin.Client.DeleteAsync($"/v2/blobs/delete/blobs/{digest.Value}");
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using var get = await _origin.Client.GetAsync($"/v2/blobs/delete/blobs/{digest.Value}");
        await OriginServer.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        using var again = await _origin.Client.DeleteAsync($"/v2/blobs/delete/blobs/{digest.Value}");
        await OriginServer.AssertErrorAsync(again, HttpStatusCode.NotFound, "BLOB_UNKNOWN");

        // The bytes stay for the other repository that holds them.
        using var kept = await _origin.Client.GetAsync($"/v2/blobs/keeps/blobs/{digest.Value}");
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
    }

    [Fact]
    public async Task UnknownMethod_405Unsupported()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/blobs/x/blobs/sha256:" + new string('a', 64));
        using var response = await _origin.Client.SendAsync(request);
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
    }

    [Theory]
    [InlineData("v2/Upper/img/manifests/v1")]
    [InlineData("v2/a/../b/manifests/v1")]
    [InlineData("v2/a/%2e%2e/b/manifests/v1")]
    [InlineData("v2/%2e%2e/x/blobs/uploads/")]
    [InlineData("v2/a//b/manifests/v1")]
    [InlineData("v2/a/./b/tags/list")]
    [InlineData("v2/a%2Fb/manifests/v1")]
    public async Task InvalidName_400NameInvalid(string path)
    {
        // Sent exactly as written: HttpClient would otherwise resolve the dot segments itself.
        var uri = new Uri(_origin.BaseAddress + path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        using var response = await _origin.Client.SendAsync(request);
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.BadRequest, "NAME_INVALID");
    }

    [Fact]
    public async Task InvalidName_OverLong_400NameInvalid()
    {
        var name = string.Join('/', Enumerable.Repeat(new string('a', 60), 5)); // 304 characters
        using var response = await _origin.Client.GetAsync($"/v2/{name}/tags/list");
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.BadRequest, "NAME_INVALID");
        using var post = await _origin.Client.PostAsync($"/v2/{name}/blobs/uploads/", null);
        await OriginServer.AssertErrorAsync(post, HttpStatusCode.BadRequest, "NAME_INVALID");
    }
}

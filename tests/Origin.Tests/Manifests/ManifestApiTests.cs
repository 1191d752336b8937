using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Tests.Manifests;

public sealed class ManifestApiTests(OriginFixture fixture) : IClassFixture<OriginFixture>
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    private const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

    private readonly OriginServer _origin = fixture.Server;

    private HttpClient Client => _origin.Client;

    private static ByteArrayContent Json(byte[] body, string? mediaType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = mediaType is null ? null : MediaTypeHeaderValue.Parse(mediaType);
        return content;
    }

    [Fact]
    public async Task PutByTag_ThenGetByTagAndDigest_ExactBytesTypeAndDigest()
    {
        var (digest, body) = await _origin.PushImageAsync("mf/basic", "v1");

        foreach (var reference in new[] { "v1", digest.Value })
        {
            using var get = await Client.GetAsync($"/v2/mf/basic/manifests/{reference}");
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(body, await get.Content.ReadAsByteArrayAsync());
            Assert.Equal(OciManifest, get.Content.Headers.GetValues("Content-Type").Single());
            Assert.Equal(digest.Value, get.Headers.GetValues("Docker-Content-Digest").Single());

            using var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/mf/basic/manifests/{reference}"));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(body.Length, head.Content.Headers.ContentLength);
            Assert.Equal(digest.Value, head.Headers.GetValues("Docker-Content-Digest").Single());
            Assert.Equal(OciManifest, head.Content.Headers.GetValues("Content-Type").Single());
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task Put_Returns201LocationAndDigest()
    {
        var config = await _origin.PushBlobAsync("mf/put", [1, 2]);
        var body = OriginServer.ImageManifest(config, 2, config, 2);
        using var put = await Client.PutAsync("/v2/mf/put/manifests/latest", Json(body, OciManifest));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var digest = Digest.Compute(body);
        Assert.Equal($"/v2/mf/put/manifests/{digest.Value}", put.Headers.Location!.OriginalString);
        Assert.Equal(digest.Value, put.Headers.GetValues("Docker-Content-Digest").Single());
    }

    [Fact]
    public async Task Put_NoContentType_ServedWithJsonMediaType()
    {
        var config = await _origin.PushBlobAsync("mf/docker", [3, 4]);
        var body = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{DockerManifest}}}","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{{{config.Value}}}","size":2},"layers":[]}""");
        using var put = await Client.PutAsync("/v2/mf/docker/manifests/v1", Json(body, null));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var get = await Client.GetAsync("/v2/mf/docker/manifests/v1");
        Assert.Equal(DockerManifest, get.Content.Headers.GetValues("Content-Type").Single());
    }

    [Fact]
    public async Task Put_ContentTypeWithCharset_ServedWithoutParameters()
    {
        var config = await _origin.PushBlobAsync("mf/charset", [5]);
        var body = OriginServer.ImageManifest(config, 1, config, 1);
        using var put = await Client.PutAsync("/v2/mf/charset/manifests/v1", Json(body, OciManifest + "; charset=utf-8"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var get = await Client.GetAsync("/v2/mf/charset/manifests/v1");
        Assert.Equal(OciManifest, get.Content.Headers.GetValues("Content-Type").Single());
    }

    [Fact]
    public async Task PutByDigest_MatchingStores_MismatchIs400DigestInvalid()
    {
        var config = await _origin.PushBlobAsync("mf/bydigest", [6]);
        var body = OriginServer.ImageManifest(config, 1, config, 1);
        var digest = Digest.Compute(body);
        using var good = await Client.PutAsync($"/v2/mf/bydigest/manifests/{digest.Value}", Json(body, OciManifest));
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);

        var wrong = Digest.Compute("other"u8);
        using var bad = await Client.PutAsync($"/v2/mf/bydigest/manifests/{wrong.Value}", Json(body, OciManifest));
        await OriginServer.AssertErrorAsync(bad, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        using var get = await Client.GetAsync($"/v2/mf/bydigest/manifests/{wrong.Value}");
        await OriginServer.AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task Put_Oversize_413_BothDeclaredAndStreamed()
    {
        var body = new byte[5 * 1024 * 1024];
        Array.Fill(body, (byte)' ');
        using var declared = await Client.PutAsync("/v2/mf/big/manifests/v1", Json(body, OciManifest));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);

        using var streamed = new StreamContent(new NonSeekableStream(body));
        streamed.Headers.ContentType = MediaTypeHeaderValue.Parse(OciManifest);
        using var chunked = await Client.PutAsync("/v2/mf/big/manifests/v1", streamed);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
    }

    [Fact]
    public async Task Put_FourMegabyteManifest_Accepted()
    {
        var config = await _origin.PushBlobAsync("mf/four-mb", [7]);
        var padding = new string('x', 4_000_000);
        var body = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{OciManifest}}}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{{config.Value}}}","size":1},"layers":[],"annotations":{"pad":"{{{padding}}}"}}""");
        using var put = await Client.PutAsync("/v2/mf/four-mb/manifests/v1", Json(body, OciManifest));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var get = await Client.GetAsync("/v2/mf/four-mb/manifests/v1");
        Assert.Equal(body, await get.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"layers\":{}}")]
    [InlineData("{\"config\":{\"digest\":\"sha256:nothex\"}}")]
    public async Task Put_InvalidManifest_400ManifestInvalid(string text)
    {
        using var put = await Client.PutAsync("/v2/mf/invalid/manifests/v1", Json(Encoding.UTF8.GetBytes(text), OciManifest));
        await OriginServer.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Theory]
    [InlineData("{\"mediaType\":\"bad\\ntype\"}")]
    [InlineData("{\"mediaType\":\"no-slash\"}")]
    [InlineData("{\"mediaType\":\"ünï/cøde\"}")]
    public async Task Put_MediaTypeNotAHeaderValue_400ManifestInvalid(string text)
    {
        using var put = await Client.PutAsync("/v2/mf/media-type/manifests/v1", Json(Encoding.UTF8.GetBytes(text), null));
        await OriginServer.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task Put_ReferencesMissingBlob_400ManifestBlobUnknown()
    {
        var config = await _origin.PushBlobAsync("mf/missing", [8]);
        var missing = Digest.Compute("never pushed"u8);
        using var put = await Client.PutAsync("/v2/mf/missing/manifests/v1", Json(OriginServer.ImageManifest(config, 1, missing, 12), OciManifest));
        await OriginServer.AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");

        // A blob in another repository does not count.
        var elsewhere = await _origin.PushBlobAsync("mf/other-repo", [9]);
        using var put2 = await Client.PutAsync("/v2/mf/missing/manifests/v1", Json(OriginServer.ImageManifest(elsewhere, 1, config, 1), OciManifest));
        await OriginServer.AssertErrorAsync(put2, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        using var get = await Client.GetAsync("/v2/mf/missing/manifests/v1");
        await OriginServer.AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task PutIndex_ChildrenMustExist()
    {
        const string IndexType = "application/vnd.oci.image.index.v1+json";
        var (child, childBody) = await _origin.PushImageAsync("mf/index", "amd64");
        var missing = Digest.Compute("no such manifest"u8);
        byte[] Index(params Digest[] children) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = IndexType,
            ["manifests"] = children.Select(c => new Dictionary<string, object> { ["mediaType"] = OciManifest, ["digest"] = c.Value, ["size"] = childBody.Length }).ToArray(),
        });

        using var bad = await Client.PutAsync("/v2/mf/index/manifests/multi", Json(Index(child, missing), IndexType));
        await OriginServer.AssertErrorAsync(bad, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");

        using var good = await Client.PutAsync("/v2/mf/index/manifests/multi", Json(Index(child), IndexType));
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
        using var get = await Client.GetAsync("/v2/mf/index/manifests/multi");
        Assert.Equal(IndexType, get.Content.Headers.GetValues("Content-Type").Single());
    }

    [Fact]
    public async Task Get_Unknown_404ManifestUnknown()
    {
        using var tag = await Client.GetAsync("/v2/mf/none/manifests/v1");
        await OriginServer.AssertErrorAsync(tag, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var digest = await Client.GetAsync($"/v2/mf/none/manifests/{Digest.Compute([1]).Value}");
        await OriginServer.AssertErrorAsync(digest, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Theory]
    [InlineData("-tag")]
    [InlineData(".x")]
    [InlineData("a%21b")]
    [InlineData("sha256:zz")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    public async Task GetHeadDelete_ReferenceNoManifestCanHave_404ManifestUnknown_PutIs400(string reference)
    {
        var config = await _origin.PushBlobAsync("mf/odd", [9]);
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
        {
            using var response = await Client.SendAsync(new HttpRequestMessage(method, $"/v2/mf/odd/manifests/{reference}"));
            await OriginServer.AssertErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        }

        using (var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/mf/odd/manifests/{reference}")))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }

        using var put = await Client.PutAsync($"/v2/mf/odd/manifests/{reference}", Json(OriginServer.ImageManifest(config, 1, config, 1), OciManifest));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains(await OriginServer.ErrorCodesAsync(put), code => code is "TAG_INVALID" or "DIGEST_INVALID");
    }

    [Fact]
    public async Task Get_TagLongerThan128_404ManifestUnknown()
    {
        using var response = await Client.GetAsync($"/v2/mf/none/manifests/{new string('a', 200)}");
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task DeleteByTag_RemovesTagOnly_DeleteByDigest_RemovesRevisionAndTags()
    {
        var (digest, _) = await _origin.PushImageAsync("mf/delete", "a");
        using (var tagB = await Client.PutAsync("/v2/mf/delete/manifests/b", Json((await Client.GetByteArrayAsync("/v2/mf/delete/manifests/a")), OciManifest)))
        {
            Assert.Equal(HttpStatusCode.Created, tagB.StatusCode);
        }

        using var deleteTag = await Client.DeleteAsync("/v2/mf/delete/manifests/a");
        Assert.Equal(HttpStatusCode.Accepted, deleteTag.StatusCode);
        using (var goneTag = await Client.GetAsync("/v2/mf/delete/manifests/a"))
        {
            await OriginServer.AssertErrorAsync(goneTag, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        }

        using (var stillByDigest = await Client.GetAsync($"/v2/mf/delete/manifests/{digest.Value}"))
        {
            Assert.Equal(HttpStatusCode.OK, stillByDigest.StatusCode);
        }

        using var deleteDigest = await Client.DeleteAsync($"/v2/mf/delete/manifests/{digest.Value}");
        Assert.Equal(HttpStatusCode.Accepted, deleteDigest.StatusCode);
        foreach (var reference in new[] { digest.Value, "b" })
        {
            using var gone = await Client.GetAsync($"/v2/mf/delete/manifests/{reference}");
            await OriginServer.AssertErrorAsync(gone, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        }

        using var again = await Client.DeleteAsync($"/v2/mf/delete/manifests/{digest.Value}");
        await OriginServer.AssertErrorAsync(again, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task TagsList_SortedAndPaginatedWithLink()
    {
        var (_, body) = await _origin.PushImageAsync("mf/tags", "t3");
        foreach (var tag in new[] { "t1", "t5", "t2", "t4" })
        {
            await _origin.PushManifestAsync("mf/tags", tag, body);
        }

        using (var all = await Client.GetAsync("/v2/mf/tags/tags/list"))
        {
            Assert.Equal(HttpStatusCode.OK, all.StatusCode);
            Assert.Equal(["t1", "t2", "t3", "t4", "t5"], await TagsAsync(all));
            Assert.False(all.Headers.Contains("Link"));
        }

        var url = "/v2/mf/tags/tags/list?n=2";
        var pages = new List<string[]>();
        for (var i = 0; i < 10 && url is not null; i++)
        {
            using var page = await Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            pages.Add(await TagsAsync(page));
            url = page.Headers.TryGetValues("Link", out var link) ? link.Single().Split('<', '>')[1] : null;
            if (url is not null)
            {
                Assert.EndsWith("rel=\"next\"", link!.Single(), StringComparison.Ordinal);
            }
        }

        Assert.Equal([["t1", "t2"], ["t3", "t4"], ["t5"]], pages);

        using var afterLast = await Client.GetAsync("/v2/mf/tags/tags/list?last=t3");
        Assert.Equal(["t4", "t5"], await TagsAsync(afterLast));
        using var zero = await Client.GetAsync("/v2/mf/tags/tags/list?n=0");
        Assert.Empty(await TagsAsync(zero));
    }

    [Fact]
    public async Task TagsList_UnknownRepository404_BadN400()
    {
        using var unknown = await Client.GetAsync("/v2/mf/no-such-repo/tags/list");
        await OriginServer.AssertErrorAsync(unknown, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        await _origin.PushImageAsync("mf/tags-bad-n", "v1");
        using var bad = await Client.GetAsync("/v2/mf/tags-bad-n/tags/list?n=-1");
        await OriginServer.AssertErrorAsync(bad, HttpStatusCode.BadRequest, "PAGINATION_NUMBER_INVALID");
    }

    private static async Task<string[]> TagsAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return [.. json.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];
    }

    private sealed class NonSeekableStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }
}

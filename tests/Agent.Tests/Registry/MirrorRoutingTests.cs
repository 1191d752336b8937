using System.Net;
using System.Net.Http.Headers;
using System.Text;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Agent.Tests.Registry;

public sealed class MirrorRoutingTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("agent-routing");
    private TestBlob _blob = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _blob = await TestBlob.CreateAsync(2048, 16 * 1024);
        _blob.InstallInto(_dir.Path);
        _agent = await TestAgent.StartAsync(_dir.Path);
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [InlineData("/v2/")]
    [InlineData("/v2")]
    public async Task Base_Answers200WithApiVersion(string path)
    {
        using var response = await _agent.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        Assert.Equal("registry/2.0", response.Headers.GetValues("Docker-Distribution-API-Version").Single());
    }

    [Theory]
    [InlineData("/v2/a/../b/manifests/latest")]
    [InlineData("/v2/%2e%2e/b/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("/v2/a/%2E%2E/b/manifests/latest")]
    [InlineData("/v2/UPPER/manifests/latest")]
    public async Task TraversalAndBadNames_AreNameInvalid(string target)
    {
        var (status, text) = await RawHttp.GetAsync(_agent.BaseAddress, target);
        Assert.Equal(400, status);
        Assert.Contains("NAME_INVALID", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v2/test/img/blobs/sha256:abc")]
    [InlineData("/v2/test/img/blobs/sha256:ZZZZ000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("/v2/test/img/blobs/md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("/v2/test/img/referrers/sha256:short")]
    public async Task MalformedDigest_IsDigestInvalid(string path)
    {
        using var response = await _agent.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("DIGEST_INVALID", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v2/test/img/manifests/sha256:short")]
    [InlineData("/v2/test/img/manifests/md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("/v2/test/img/manifests/.x")]
    [InlineData("/v2/test/img/manifests/-x")]
    [InlineData("/v2/test/img/manifests/a%21b")]
    public async Task ManifestReferenceNoManifestCanHave_Is404ManifestUnknown(string path)
    {
        using var response = await _agent.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("MANIFEST_UNKNOWN", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("</v2/a/tags/list?n=2&last=b>; rel=\"next\"", "docker.io", "</v2/a/tags/list?n=2&last=b&ns=docker.io>; rel=\"next\"")]
    [InlineData("</v2/a/referrers/sha256:ab>; rel=\"next\"", "r.example:5000", "</v2/a/referrers/sha256:ab?ns=r.example%3A5000>; rel=\"next\"")]
    [InlineData("</v2/a/tags/list?ns=x&last=b>; rel=\"next\"", "docker.io", "</v2/a/tags/list?ns=x&last=b>; rel=\"next\"")]
    [InlineData("</v2/a/tags/list?n=2&last=b>; rel=\"next\"", null, "</v2/a/tags/list?n=2&last=b>; rel=\"next\"")]
    [InlineData("garbage", "docker.io", "garbage")]
    public void WithNamespace_AddsNsToTheNextLinkOnce(string link, string? ns, string expected)
    {
        Assert.Equal(expected, P2PRegistry.Agent.Registry.MirrorHandler.WithNamespace(link, ns));
    }

    [Fact]
    public async Task UnknownRoute_IsNameUnknown()
    {
        using var response = await _agent.Client.GetAsync("/v2/test/img/nothing/here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("NAME_UNKNOWN", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PUT", "/v2/test/img/manifests/latest")]
    [InlineData("POST", "/v2/test/img/blobs/uploads/")]
    [InlineData("PATCH", "/v2/test/img/blobs/uploads/abc")]
    [InlineData("DELETE", "/v2/test/img/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task PushMethods_AreUnsupported(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent([1, 2, 3]) };
        using var response = await _agent.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("UNSUPPORTED", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bytes=500-1499", 206, "bytes 500-1499/2048", 500, 1000)]
    [InlineData("bytes=500-", 206, "bytes 500-2047/2048", 500, 1548)]
    [InlineData("bytes=-500", 206, "bytes 1548-2047/2048", 1548, 500)]
    [InlineData("bytes=2000-5000", 206, "bytes 2000-2047/2048", 2000, 48)]
    [InlineData(null, 200, null, 0, 2048)]
    public async Task CachedBlob_HonoursRanges(string? range, int status, string? contentRange, int offset, int length)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/test/img/blobs/{_blob.Digest}");
        if (range is not null)
        {
            request.Headers.TryAddWithoutValidation("Range", range);
        }

        using var response = await _agent.Client.SendAsync(request);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(contentRange, response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(_blob.Content.AsSpan(offset, length).ToArray(), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(_blob.Digest.Value, response.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal("bytes", response.Headers.AcceptRanges.Single());
    }

    [Theory]
    [InlineData("bytes=500-0")]
    [InlineData("bytes=5000-10000")]
    public async Task CachedBlob_UnsatisfiableRange_Is416(string range)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/test/img/blobs/{_blob.Digest}");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await _agent.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */2048", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(response.Content.Headers.ContentLength ?? 0, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task CachedBlob_Head_HasLengthAndDigest_NoGzip()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/library/busybox/blobs/{_blob.Digest}?ns=docker.io");
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var response = await _agent.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2048, response.Content.Headers.ContentLength);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(_blob.Digest.Value, response.Headers.GetValues("Docker-Content-Digest").Single());
    }

    [Fact]
    public async Task Metrics_CountCacheHitsAndBytesServed()
    {
        (await _agent.Client.GetByteArrayAsync($"/v2/test/img/blobs/{_blob.Digest}")).AsSpan().ToArray();
        var metrics = await _agent.Client.GetStringAsync("/metrics");
        Assert.Contains("p2pregistry_agent_cache_hits", metrics, StringComparison.Ordinal);
        Assert.Contains("p2pregistry_agent_bytes_served", metrics, StringComparison.Ordinal);
        // No tracker listens at this agent's Agent:TrackerUrl: it is live, but not ready.
        using var ready = await _agent.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("\"trackers\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var live = await _agent.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        _ = Encoding.UTF8;
    }
}

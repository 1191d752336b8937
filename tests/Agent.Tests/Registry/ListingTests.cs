using System.Net;
using System.Text;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Agent.Tests.Registry;

/// <summary>tags/list and referrers passed to the origin: what is forwarded, and the bounds on what comes back.</summary>
public sealed class ListingTests : IAsyncLifetime
{
    private const string Subject = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private readonly TempDirectory _dir = new("agent-listings");
    private FakeOrigin _origin = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _origin = await FakeOrigin.StartAsync();
        _agent = await TestAgent.StartAsync(_dir.Path, originUrl: _origin.Url, settings: ["--Agent:DefaultRegistry=registry.example:5000", "--Agent:OriginTimeout=00:00:02"]);
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _origin.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task TagsList_ForwardsNsAndPaging_PassesBodyUnchanged()
    {
        var body = """{"name":"test/img","tags":["a","b"]}"""u8.ToArray();
        _origin.Manifests["test/img/tags/list"] = (body, "application/json");
        using var response = await _agent.Client.GetAsync("/v2/test/img/tags/list?n=2&last=0&ignored=x");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
        Assert.Contains("/v2/test/img/tags/list?ns=registry.example%3A5000&n=2&last=0", _origin.Requests);
    }

    [Fact]
    public async Task Referrers_ForwardsArtifactType_HeadHasNoBody()
    {
        var index = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"""u8.ToArray();
        _origin.Manifests[$"test/img/referrers/{Subject}"] = (index, "application/vnd.oci.image.index.v1+json");
        using var get = await _agent.Client.GetAsync($"/v2/test/img/referrers/{Subject}?ns=other.example&artifactType=a%2Fb");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(index, await get.Content.ReadAsByteArrayAsync());
        Assert.Contains($"/v2/test/img/referrers/{Subject}?ns=other.example&artifactType=a%2Fb", _origin.Requests);

        using var head = await _agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/test/img/referrers/{Subject}"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(index.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task OriginWithoutAnOciBody404_Is404NameUnknown()
    {
        using var response = await _agent.Client.GetAsync("/v2/test/none/tags/list");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("NAME_UNKNOWN", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OriginAnswerOver4MiB_Is503_NotBuffered()
    {
        var huge = Encoding.ASCII.GetBytes("{\"tags\":[\"" + new string('a', 5 * 1024 * 1024) + "\"]}");
        _origin.Manifests["test/huge/tags/list"] = (huge, "application/json");
        using var response = await _agent.Client.GetAsync("/v2/test/huge/tags/list");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("UNAVAILABLE", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Manifest_OriginTricklesTheBodyPastOriginTimeout_IsAFastMiss404()
    {
        var manifest = Encoding.ASCII.GetBytes("{\"schemaVersion\":2,\"pad\":\"" + new string(' ', 256 * 1024) + "\"}");
        _origin.Manifests["test/slow/manifests/v1"] = (manifest, "application/vnd.oci.image.manifest.v1+json");
        _origin.BytesPerSecond = 32 * 1024;
        using var response = await _agent.Client.GetAsync("/v2/test/slow/manifests/v1");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("timed out", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OriginSlowerThanOriginTimeout_Is503()
    {
        _origin.Manifests["test/slow/tags/list"] = (new byte[256 * 1024], "application/json");
        _origin.BytesPerSecond = 32 * 1024;
        using var response = await _agent.Client.GetAsync("/v2/test/slow/tags/list");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("timed out", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

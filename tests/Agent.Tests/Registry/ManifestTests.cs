using System.Diagnostics;
using System.Net;
using System.Text;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Core.Content;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Agent.Tests.Registry;

public sealed class ManifestTests : IAsyncLifetime
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    private readonly TempDirectory _dir = new("agent-manifests");
    private readonly byte[] _manifest = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}");
    private FakeOrigin _origin = null!;
    private TestAgent _agent = null!;

    private Digest ManifestDigest => Digest.Compute(_manifest);

    public async Task InitializeAsync()
    {
        _origin = await FakeOrigin.StartAsync();
        _origin.Manifests["test/img/manifests/v1"] = (_manifest, OciManifest);
        _origin.Manifests[$"test/img/manifests/{ManifestDigest}"] = (_manifest, OciManifest);
        _agent = await TestAgent.StartAsync(_dir.Path, originUrl: _origin.Url, settings: "--Agent:DefaultRegistry=registry.example:5000");
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _origin.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task HeadByTag_HasExactTypeLengthAndDigest_AndPassesNs()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/v2/test/img/manifests/v1?ns=origin.lab%3A5000");
        using var response = await _agent.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(OciManifest, response.Content.Headers.ContentType!.ToString());
        Assert.Equal(_manifest.Length, response.Content.Headers.ContentLength);
        Assert.Equal(ManifestDigest.Value, response.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Contains("/v2/test/img/manifests/v1?ns=origin.lab%3A5000", _origin.Requests);
    }

    [Fact]
    public async Task GetByTag_WithoutNs_UsesDefaultRegistry_AndIsResolvedEveryTime()
    {
        Assert.Equal(_manifest, await _agent.Client.GetByteArrayAsync("/v2/test/img/manifests/v1"));
        Assert.Equal(_manifest, await _agent.Client.GetByteArrayAsync("/v2/test/img/manifests/v1"));
        Assert.Equal(2, _origin.Requests.Count(r => r == "/v2/test/img/manifests/v1?ns=registry.example%3A5000"));
    }

    [Fact]
    public async Task GetByDigest_IsCachedAfterFirstFetch_ServedWithOriginGone()
    {
        Assert.Equal(_manifest, await _agent.Client.GetByteArrayAsync($"/v2/test/img/manifests/{ManifestDigest}"));
        _origin.Manifests.Clear();
        using var response = await _agent.Client.GetAsync($"/v2/test/img/manifests/{ManifestDigest}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_manifest, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(OciManifest, response.Content.Headers.ContentType!.ToString());
        Assert.Single(_origin.Requests, r => r.Contains(ManifestDigest.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetByDigest_OriginSendsOtherBytes_IsNotServed()
    {
        var wrong = Digest.Compute("other"u8);
        _origin.Manifests[$"test/img/manifests/{wrong}"] = (_manifest, OciManifest);
        using var response = await _agent.Client.GetAsync($"/v2/test/img/manifests/{wrong}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("MANIFEST_UNKNOWN", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownTag_IsManifestUnknown()
    {
        using var response = await _agent.Client.GetAsync("/v2/test/img/manifests/nope");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("MANIFEST_UNKNOWN", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OriginDown_TagIs404Fast_AndLogged()
    {
        await using var agent = await TestAgent.StartAsync(_dir.Combine("down"));
        using var client = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromSeconds(3) };
        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync("/v2/test/img/manifests/v1?ns=docker.io");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True(agent.Logs.Contains(3, "manifest"), "the fast-miss path was not logged");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3));
    }
}

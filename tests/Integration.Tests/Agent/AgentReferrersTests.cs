using System.Net;
using System.Text;
using System.Text.Json;
using P2PRegistry.Integration.Tests.Origin;
using P2PRegistry.Integration.Tests.Swarm;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>Origin, tracker and agent as processes, shared by the tests of <see cref="AgentReferrersTests"/>.</summary>
public sealed class AgentListingFixture : IAsyncLifetime
{
    public TestOutputSink Output { get; } = new();

    public OriginProcess Origin { get; private set; } = null!;

    internal TrackerProcess Tracker { get; private set; } = null!;

    internal AgentProcess Agent { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Origin = await OriginProcess.StartAsync(new OriginOptions
        {
            OnOutputLine = line => Output.WriteLine("[origin] " + line),
            ExtraArguments = ["--Origin:Push:AllowAnonymous=true"],
        });
        Tracker = await TrackerProcess.StartAsync(Origin.BaseAddress, line => Output.WriteLine("[tracker] " + line));
        // Requests without ns (skopeo's) name the origin itself, as containerd's ns would for an image pushed to it.
        Agent = await AgentProcess.StartAsync("agent-listing", Tracker.GrpcUrl, Origin.BaseAddress, line => Output.WriteLine("[agent] " + line), $"--Agent:DefaultRegistry={Origin.Host}");
    }

    public async Task DisposeAsync()
    {
        if (Agent is not null)
        {
            await Agent.DisposeAsync();
        }

        if (Tracker is not null)
        {
            await Tracker.DisposeAsync();
        }

        if (Origin is not null)
        {
            await Origin.DisposeAsync();
        }
    }
}

/// <summary>
/// OCI 1.1 referrers pushed to our origin as a client would (an artifact manifest with a <c>subject</c>, raw PUT), read
/// back from the origin and through an agent process; the agent's tags list and manifest misses. docker-registry 2.8
/// (Debian's) has no referrers API, so these run against our origin and agent only.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentReferrersTests : IClassFixture<AgentListingFixture>, IDisposable
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    private const string OciIndex = "application/vnd.oci.image.index.v1+json";

    private readonly AgentListingFixture _fixture;

    public AgentReferrersTests(AgentListingFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        fixture.Output.Attach(output);
    }

    private OriginProcess OriginRegistry => _fixture.Origin;

    /// <summary>The origin's own name as <c>ns</c>: the name its pushed repositories are pulled by.</summary>
    private string Ns => Uri.EscapeDataString(OriginRegistry.Host);

    private static async Task<string> PushArtifactAsync(RegistryClient client, string repository, string subject, string artifactType, int seed)
    {
        var config = await client.UploadBytesAsync(repository, "{}"u8.ToArray());
        var layerBytes = Encoding.UTF8.GetBytes($"signature {seed}");
        var layer = await client.UploadBytesAsync(repository, layerBytes);
        var body = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{OciManifest}}}","artifactType":"{{{artifactType}}}","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{{{config}}}","size":2},"layers":[{"mediaType":"application/octet-stream","digest":"{{{layer}}}","size":{{{layerBytes.Length}}} }],"subject":{"mediaType":"{{{OciManifest}}}","digest":"{{{subject}}}","size":1},"annotations":{"seed":"{{{seed}}}"}}""");
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body));
        using var put = await client.PutManifestAsync(repository, digest, body, OciManifest);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(subject, put.Headers.GetValues("OCI-Subject").Single());
        return digest;
    }

    private static async Task<(string[] Digests, byte[] Body, HttpResponseMessage Response)> GetReferrersAsync(HttpClient http, string path)
    {
        var response = await http.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(OciIndex, response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsByteArrayAsync();
        using var json = JsonDocument.Parse(body);
        Assert.Equal(OciIndex, json.RootElement.GetProperty("mediaType").GetString());
        var digests = json.RootElement.GetProperty("manifests").EnumerateArray().Select(e => e.GetProperty("digest").GetString()!).ToArray();
        return (digests, body, response);
    }

    [Fact]
    public async Task Referrers_PushedWithSubject_SameIndexFromOriginAndThroughAgent_FilterToo()
    {
        using var origin = new RegistryClient(OriginRegistry.BaseAddress);
        using var agent = new RegistryClient(_fixture.Agent.BaseAddress);
        var (subject, _) = await OciDistributionTests<OriginFixture>.PushTinyImageAsync(origin, "ref/app", "v1", 1);
        var sbom = await PushArtifactAsync(origin, "ref/app", subject, "application/vnd.example.sbom", 1);
        var signature = await PushArtifactAsync(origin, "ref/app", subject, "application/vnd.example.sig", 2);

        var path = $"/v2/ref/app/referrers/{subject}?ns={Ns}";
        var (fromOrigin, originBody, originResponse) = await GetReferrersAsync(origin.Http, path);
        var (throughAgent, agentBody, agentResponse) = await GetReferrersAsync(agent.Http, path);
        originResponse.Dispose();
        agentResponse.Dispose();
        Assert.Equal(new[] { sbom, signature }.Order(StringComparer.Ordinal), fromOrigin);
        Assert.Equal(originBody, agentBody);
        Assert.Equal(fromOrigin, throughAgent);

        var filtered = $"/v2/ref/app/referrers/{subject}?ns={Ns}&artifactType={Uri.EscapeDataString("application/vnd.example.sig")}";
        var (only, _, filteredResponse) = await GetReferrersAsync(agent.Http, filtered);
        using (filteredResponse)
        {
            Assert.Equal([signature], only);
            Assert.Equal("artifactType", filteredResponse.Headers.GetValues("OCI-Filters-Applied").Single());
        }

        // A subject nothing refers to: an empty index, not a 404, both ways.
        var lonely = "sha256:" + new string('0', 64);
        foreach (var http in new[] { origin.Http, agent.Http })
        {
            var (none, _, response) = await GetReferrersAsync(http, $"/v2/ref/app/referrers/{lonely}?ns={Ns}");
            response.Dispose();
            Assert.Empty(none);
        }

        using var bad = await agent.Http.GetAsync($"/v2/ref/app/referrers/sha256:zz?ns={Ns}");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("DIGEST_INVALID", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Referrers_KeptAcrossAnOriginRestart_DeleteRemoves_AgentSays503WhileTheOriginIsDown()
    {
        using var origin = new RegistryClient(OriginRegistry.BaseAddress);
        using var agent = new RegistryClient(_fixture.Agent.BaseAddress);
        var (subject, _) = await OciDistributionTests<OriginFixture>.PushTinyImageAsync(origin, "ref/restart", "v1", 2);
        var first = await PushArtifactAsync(origin, "ref/restart", subject, "application/vnd.example.sig", 10);
        var second = await PushArtifactAsync(origin, "ref/restart", subject, "application/vnd.example.sig", 11);
        var path = $"/v2/ref/restart/referrers/{subject}?ns={Ns}";

        OriginRegistry.Kill();
        await OriginRegistry.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        using (var down = await agent.Http.GetAsync(path))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.Contains("UNAVAILABLE", await down.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await OriginRegistry.RestartAsync();
        var (afterRestart, _, response) = await GetReferrersAsync(agent.Http, path);
        response.Dispose();
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), afterRestart);

        using (var delete = await origin.Http.DeleteAsync($"/v2/ref/restart/manifests/{first}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        var (afterDelete, _, deleteResponse) = await GetReferrersAsync(agent.Http, path);
        deleteResponse.Dispose();
        Assert.Equal([second], afterDelete);
    }

    [Fact]
    public async Task TagsList_ThroughAgent_PagedWithALinkThatKeepsNs_UnknownRepositoryIs404()
    {
        using var origin = new RegistryClient(OriginRegistry.BaseAddress);
        using var agent = new RegistryClient(_fixture.Agent.BaseAddress);
        string[] tags = ["c", "a", "b"];
        foreach (var tag in tags)
        {
            await OciDistributionTests<OriginFixture>.PushTinyImageAsync(origin, "ref/tags", tag, 3);
        }

        var seen = new List<string>();
        string? next = $"/v2/ref/tags/tags/list?n=2&ns={Ns}";
        var pages = 0;
        while (next is not null)
        {
            Assert.True(++pages <= 10, "the tags list never ended");
            using var response = await agent.Http.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal("ref/tags", json.RootElement.GetProperty("name").GetString());
            seen.AddRange(json.RootElement.GetProperty("tags").EnumerateArray().Select(e => e.GetString()!));
            next = OciDistributionTests<OriginFixture>.NextLink(response);
            if (next is not null)
            {
                Assert.Contains($"ns={Ns}", next, StringComparison.Ordinal);
            }
        }

        Assert.Equal(2, pages);
        Assert.Equal(["a", "b", "c"], seen);

        // A real client through the agent: skopeo list-tags (no ns: the agent's default names the origin).
        var listed = await Skopeo.ListTagsAsync($"docker://{_fixture.Agent.BaseAddress.Authority}/ref/tags");
        Assert.Equal(["a", "b", "c"], listed.Order(StringComparer.Ordinal));

        using var unknown = await agent.Http.GetAsync($"/v2/ref/never-pushed/tags/list?ns={Ns}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("NAME_UNKNOWN", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v-does-not-exist")]
    [InlineData(".x")]
    [InlineData("-x")]
    [InlineData("a%21b")]
    [InlineData("sha256:zz")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task ManifestThatDoesNotExist_Is404ManifestUnknown_FromOriginAndThroughAgent(string reference)
    {
        using var origin = new RegistryClient(OriginRegistry.BaseAddress);
        using var agent = new RegistryClient(_fixture.Agent.BaseAddress);
        await OciDistributionTests<OriginFixture>.PushTinyImageAsync(origin, "ref/odd", "v1", 4);
        foreach (var http in new[] { origin.Http, agent.Http })
        {
            using var get = await http.GetAsync($"/v2/ref/odd/manifests/{reference}?ns={Ns}");
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
            Assert.Contains("MANIFEST_UNKNOWN", await get.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/ref/odd/manifests/{reference}?ns={Ns}"));
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }
    }

    public void Dispose() => _fixture.Output.Attach(null);
}

using System.Net;
using System.Security.Cryptography;
using P2PRegistry.Integration.Tests.Swarm;
using P2PRegistry.Integration.Tests.Upstream;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// Pull-through end to end: containerd → agent (hosts.toml, <c>ns</c> = the image's registry) → origin → upstream
/// (a docker-registry with token auth, like Docker Hub). Everything as real processes.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentPullThroughTests : IClassFixture<UpstreamFixture>, IDisposable
{
    // These agents must serve, not fall back: a source that exists is waited for (Agent:SourceTimeout) however loaded the
    // machine; Agent:MissTimeout keeps its default, the answer when no source exists.
    private const string PatientSources = "--Agent:SourceTimeout=00:00:30";

    /// <summary>A second registry name, served by a plain docker-registry holding another image under the same name and tag.</summary>
    private const string OtherName = "other.example:5000";

    private readonly UpstreamFixture _fixture;
    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _temp = new("agent-pullthrough");

    public AgentPullThroughTests(UpstreamFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Attach(output);
    }

    public void Dispose()
    {
        _fixture.Output.Attach(null);
        _temp.Dispose();
    }

    [Fact]
    public async Task Containerd_PullsThroughTheAgent_FromTheUpstreamNsNames_AndTheSameNameUnderAnotherRegistryReachesThatOne()
    {
        // The other upstream: no auth, and under the same repository and tag an image with other content.
        var otherImage = await OciImageBuilder.BuildAsync(_temp.Combine("other-layout"), "v1", randomMiB: 2, seed: 99);
        await using var other = await DockerRegistryProcess.StartAsync(new DockerRegistryOptions { OnOutputLine = Log("other-upstream") });
        await Skopeo.PushAsync(otherImage.Reference, Skopeo.Docker(other.Host, "team/app", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        Assert.NotEqual(_fixture.Image.ManifestDigest, otherImage.ManifestDigest);

        await using var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            ExtraArguments = UpstreamFixture.OriginArguments(_fixture.Registry.BaseAddress, UpstreamFixture.Password,
                $"--Origin:Upstreams:1:Name={OtherName}", $"--Origin:Upstreams:1:Url={other.BaseAddress}", "--Origin:Upstreams:1:AllowHttp=true"),
            OnOutputLine = Log("origin"),
        });
        await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress, Log("tracker"));
        await using var agent = await AgentProcess.StartAsync("agent", tracker.GrpcUrl, origin.BaseAddress, Log("agent"), PatientSources);
        await using var node = await ContainerdProcess.StartAsync(_output.WriteLine);

        // Each registry's hosts.toml names a server that does not resolve and the agent as its only host: whatever
        // containerd gets came through the agent, and the ns it sends is the registry in the image reference.
        var first = $"{UpstreamFixture.Name}/team/app:v1";
        var second = $"{OtherName}/team/app:v1";
        node.WriteHostsToml(UpstreamFixture.Name, new Uri("http://upstream.invalid"), agent.BaseAddress);
        node.WriteHostsToml(OtherName, new Uri("http://other.invalid"), agent.BaseAddress);

        await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, first], TimeSpan.FromMinutes(2));
        await AgentPullTests.AssertUnpackedAsync(node, first, _fixture.Image);
        await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, second], TimeSpan.FromMinutes(2));
        await AgentPullTests.AssertUnpackedAsync(node, second, otherImage);

        // Each upstream served only its own image's blobs.
        foreach (var digest in _fixture.Image.BlobDigests)
        {
            Assert.Equal(1, _fixture.Registry.CountRequests("GET", $"/v2/team/app/blobs/{digest}", 200));
        }

        foreach (var digest in otherImage.BlobDigests.Except(_fixture.Image.BlobDigests))
        {
            Assert.Equal(1, other.CountRequests("GET", $"/v2/team/app/blobs/{digest}", 200));
            Assert.Equal(0, _fixture.Registry.CountRequests("GET", $"/v2/team/app/blobs/{digest}"));
        }
    }

    [Fact]
    public async Task FourAgentsPullingTheSameColdImageAtOnce_CauseOneUpstreamGetPerBlob()
    {
        await using var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            ExtraArguments = UpstreamFixture.OriginArguments(_fixture.Registry.BaseAddress),
            OnOutputLine = Log("origin"),
        });
        await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress, Log("tracker"));
        var agents = new List<AgentProcess>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                agents.Add(await AgentProcess.StartAsync($"agent-{i}", tracker.GrpcUrl, origin.BaseAddress, Log($"agent-{i}"), PatientSources));
            }

            // As containerd would: the tag, then every blob of the image, all agents at the same moment.
            var ns = "?ns=" + Uri.EscapeDataString(UpstreamFixture.Name);
            using var start = new SemaphoreSlim(0);
            var pulls = agents.Select(async agent =>
            {
                using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
                await start.WaitAsync();
                using var manifest = await http.GetAsync($"/v2/team/other/manifests/v1{ns}");
                Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
                Assert.Equal(_fixture.ManifestDigest, Sha256(await manifest.Content.ReadAsByteArrayAsync()));
                await Task.WhenAll(_fixture.Image.BlobDigests.Select(async digest =>
                {
                    var bytes = await http.GetByteArrayAsync($"/v2/team/other/blobs/{digest}{ns}");
                    Assert.Equal(digest, Sha256(bytes));
                }));
            }).ToList();
            start.Release(agents.Count);
            await Task.WhenAll(pulls);

            foreach (var digest in _fixture.Image.BlobDigests)
            {
                Assert.Equal(1, _fixture.Registry.CountRequests("GET", $"/v2/team/other/blobs/{digest}"));
            }
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task DockerHubNaming_LibraryImage_ByFullReferenceAndWithoutNs_ReachesTheDockerIoUpstream()
    {
        // docker.io pointed at the token-auth upstream (it stands in for Docker Hub, which this machine cannot reach),
        // holding the image under library/, where Docker Hub keeps official images.
        var credentials = new SkopeoCredentials(UpstreamFixture.Username, UpstreamFixture.Password);
        await Skopeo.PushAsync(_fixture.Image.Reference, Skopeo.Docker(_fixture.Registry.Host, "library/app", "v1"),
            new SkopeoCopyOptions { PreserveDigests = true, DestinationCredentials = credentials });
        await using var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            ExtraArguments =
            [
                "--Origin:Upstreams:0:Name=docker.io", $"--Origin:Upstreams:0:Url={_fixture.Registry.BaseAddress}", "--Origin:Upstreams:0:AllowHttp=true",
                $"--Origin:Upstreams:0:Username={UpstreamFixture.Username}", $"--Origin:Upstreams:0:Password={UpstreamFixture.Password}",
            ],
            OnOutputLine = Log("origin"),
        });
        await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress, Log("tracker"));
        await using var agent = await AgentProcess.StartAsync("agent", tracker.GrpcUrl, origin.BaseAddress, Log("agent"), PatientSources);

        // containerd with the agent as docker.io's mirror: it sends /v2/library/app/...?ns=docker.io.
        await using var node = await ContainerdProcess.StartAsync(_output.WriteLine);
        node.WriteHostsToml("docker.io", new Uri("http://hub.invalid"), agent.BaseAddress);
        const string reference = "docker.io/library/app:v1";
        await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, reference], TimeSpan.FromMinutes(2));
        await AgentPullTests.AssertUnpackedAsync(node, reference, _fixture.Image);

        // docker's registry-mirrors send no ns: the agent's default registry (docker.io) stands in for it.
        using var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
        using var manifest = await http.GetAsync("/v2/library/app/manifests/v1");
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(_fixture.ManifestDigest, Sha256(await manifest.Content.ReadAsByteArrayAsync()));
        Assert.True(_fixture.Registry.CountRequests("HEAD", "/v2/library/app/manifests/v1") >= 2, "the tag was not revalidated upstream for each resolve");
    }

    private static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    private Action<string> Log(string name) => line =>
    {
        try
        {
            _output.WriteLine($"[{name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // Output after the test ended.
        }
    };
}

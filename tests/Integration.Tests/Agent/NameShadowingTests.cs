using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using P2PRegistry.Integration.Tests.Swarm;
using P2PRegistry.Integration.Tests.Upstream;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// The hijack of issue 16, tried for real: an upstream (docker-registry, token auth) holds image X as
/// <c>team/app:v1</c>; a credential holder pushes image Y to the origin under the same name. containerd pulling the
/// upstream's <c>team/app:v1</c> through an agent still gets X, byte for byte; the pushed Y answers only under the
/// origin's own name. The same push without credentials is refused (anonymous push is off by default).
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class NameShadowingTests : IClassFixture<UpstreamFixture>, IDisposable
{
    private const string PusherPassword = "y-pusher-Pw-7";

    private readonly UpstreamFixture _fixture;
    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _temp = new("name-shadowing");

    public NameShadowingTests(UpstreamFixture fixture, ITestOutputHelper output)
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
    public async Task PushUnderAnUpstreamsName_ContainerdThroughTheAgentStillGetsTheUpstreamsImage_AnonymousPushRefused()
    {
        var x = _fixture.Image;
        var y = await OciImageBuilder.BuildAsync(_temp.Combine("y-layout"), "v1", randomMiB: 1, seed: 1616);
        Assert.NotEqual(x.ManifestDigest, y.ManifestDigest);

        var htpasswd = await Htpasswd.WriteAsync(_temp.Combine("users.htpasswd"), [("pusher", PusherPassword)]);
        await using var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            HtpasswdFile = htpasswd,
            PushUsers = new Dictionary<string, string[]> { ["pusher"] = ["team/"] },
            ExtraArguments = UpstreamFixture.OriginArguments(_fixture.Registry.BaseAddress),
            OnOutputLine = Log("origin"),
        });

        // Without credentials the push is refused: skopeo fails, and the raw request gets 401 with the challenge.
        var anonymous = await Skopeo.CopyAsync(y.Reference, Skopeo.Docker(origin.Host, "team/app", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        Assert.False(anonymous.Succeeded, "an anonymous push was accepted");
        Assert.Contains("unauthorized: authentication required", anonymous.StandardError, StringComparison.Ordinal);
        using (var http = new HttpClient { BaseAddress = origin.BaseAddress, Timeout = TimeSpan.FromSeconds(30) })
        {
            using var post = await http.PostAsync("/v2/team/app/blobs/uploads/", null);
            Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
            Assert.Equal("Basic realm=\"p2pregistry\"", post.Headers.WwwAuthenticate.Single().ToString());
        }

        // With credentials (a holder allowed under team/) the push is accepted: Y is now the origin's team/app:v1.
        var pushed = await Skopeo.PushAsync(y.Reference, Skopeo.Docker(origin.Host, "team/app", "v1"),
            new SkopeoCopyOptions { PreserveDigests = true, DestinationCredentials = new SkopeoCredentials("pusher", PusherPassword) });
        Assert.Equal(y.ManifestDigest, pushed);

        await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress, Log("tracker"));
        await using var agent = await AgentProcess.StartAsync("agent", tracker.GrpcUrl, origin.BaseAddress, Log("agent"), "--Agent:MissTimeout=00:00:10");
        await using var node = await ContainerdProcess.StartAsync(_output.WriteLine);

        // The upstream's server does not resolve and the agent is the only host: what containerd gets came through it.
        var reference = $"{UpstreamFixture.Name}/team/app:v1";
        node.WriteHostsToml(UpstreamFixture.Name, new Uri("http://upstream.invalid"), agent.BaseAddress);
        await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, reference], TimeSpan.FromMinutes(2));

        // X, byte for byte: the image's manifest digest, every blob of X, and no layer of Y.
        await AgentPullTests.AssertUnpackedAsync(node, reference, x);
        var images = await node.Ctr("images", "ls", $"name=={reference}");
        Assert.Contains(x.ManifestDigest, images.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(y.ManifestDigest, images.StandardOutput, StringComparison.Ordinal);
        var content = (await node.Ctr("content", "ls", "-q")).StandardOutput;
        foreach (var layer in y.LayerDigests.Except(x.LayerDigests))
        {
            Assert.DoesNotContain(layer, content, StringComparison.Ordinal);
        }

        using (var agentHttp = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromMinutes(1) })
        {
            // Through the agent, the upstream's name resolves to X and the origin's own name to Y.
            Assert.Equal(x.ManifestDigest, await ManifestDigestAsync(agentHttp, $"/v2/team/app/manifests/v1?ns={Uri.EscapeDataString(UpstreamFixture.Name)}"));
            Assert.Equal(y.ManifestDigest, await ManifestDigestAsync(agentHttp, $"/v2/team/app/manifests/v1?ns={Uri.EscapeDataString(origin.Host)}"));

            // A name that is neither: nothing (containerd would ask its next host).
            using var stranger = await agentHttp.GetAsync("/v2/team/app/manifests/v1?ns=stranger.example");
            Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        }

        // Neither the push password (registered by Htpasswd) nor the upstream's (registered from the origin's command
        // line) reaches the output of the origin, tracker or agent, in any form: the kit checks each of their lines and
        // StopAsync fails on a leak.
        Assert.True(origin.Process.ChecksForSecrets && agent.Process.ChecksForSecrets && tracker.Process.ChecksForSecrets);
        await agent.Process.StopAsync();
        await tracker.Process.StopAsync();
        await origin.StopAsync();
    }

    private static async Task<string> ManifestDigestAsync(HttpClient http, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync()));
    }

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

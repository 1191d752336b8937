using System.Globalization;
using System.Text.Json.Nodes;
using P2PRegistry.Integration.Tests.Agent;

namespace P2PRegistry.Integration.Tests.Deploy;

/// <summary>
/// The images of <c>deploy/docker/Dockerfile</c>, built and pulled by <see cref="ContainerImagesFixture"/>, run under
/// containerd (<c>ctr run --net-host</c>; each listener moved to a free 127.0.0.1 port with the same environment
/// variables a user sets): the origin takes a push and serves the pull, the tracker serves metainfo it fetched from
/// the origin container, and containerd pulls an image through the agent container as its mirror.
/// </summary>
[Collection(ContainerImagesCollection.Name)]
[Trait("Category", TestCategories.Integration)]
public sealed class ContainerImageTests
{
    private const string AppUid = "1654";
    private readonly ContainerImagesFixture _fixture;
    private readonly ITestOutputHelper _output;

    public ContainerImageTests(ContainerImagesFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Attach(output);
    }

    [Theory]
    [InlineData("origin", "P2PRegistry.Origin", "ASPNETCORE_URLS=http://0.0.0.0:5000", true)]
    [InlineData("tracker", "P2PRegistry.Tracker", "Tracker__HttpUrl=http://0.0.0.0:7000", false)]
    [InlineData("agent", "P2PRegistry.Agent", "Agent__RegistryUrl=http://0.0.0.0:5050", true)]
    public void Image_Config_NonRootWithHealthcheckWildcardListenerAndDataVolume(string component, string program, string listenSetting, bool hasVolume)
    {
        var image = _fixture[component];
        var config = image.Config;
        _output.WriteLine(string.Join(Environment.NewLine, _fixture.BuildLog));
        _output.WriteLine($"{component}: {image.UncompressedSize} unpacked on the test base; {Mib(image.CompressedBytes)} MiB as pushed (gzip), of which the program's layer {Mib(image.AppLayerCompressedBytes)} MiB");

        Assert.Equal(AppUid, config["User"]!.GetValue<string>());
        Assert.Equal(["/app/" + program], Strings(config["Entrypoint"]));
        Assert.Equal(["CMD", "/app/" + program, "healthcheck"], Strings(config["Healthcheck"]!["Test"]));
        Assert.Contains(listenSetting, Strings(config["Env"]));
        Assert.Equal(hasVolume, config["Volumes"]?.AsObject().ContainsKey("/var/lib/p2pregistry") ?? false);
    }

    /// <summary>
    /// With the image's own listeners (0.0.0.0 and the default ports) in a network namespace of its own, which nothing
    /// outside can reach: the image's HEALTHCHECK, run inside it, finds the server from the same defaults. The origin
    /// and the tracker need nothing else and become healthy; the agent is ready only once a tracker answers, and no
    /// tracker is reachable from its namespace, so its HEALTHCHECK finds it and reports it unhealthy (503), for that reason.
    /// </summary>
    [Theory]
    [InlineData("origin")]
    [InlineData("tracker")]
    [InlineData("agent")]
    public async Task Image_DefaultSettings_OwnNetworkNamespace_HealthcheckFindsTheServer(string component)
    {
        // The one setting the origin cannot default (its peer address as others dial it).
        var environment = component == "origin"
            ? new Dictionary<string, string> { ["Origin__Peer__AdvertiseAddress"] = "127.0.0.1" }
            : [];
        await using var container = await _fixture.RunAsync(component, environment, Readiness.None, hostNetwork: false);

        var test = Strings(_fixture[component].Config["Healthcheck"]!["Test"]).Skip(1).ToList();
        var expectedPort = component switch { "origin" => 5000, "tracker" => 7000, _ => 5050 };
        var expected = component == "agent"
            ? $"unhealthy: http://127.0.0.1:{expectedPort}/readyz answered 503"
            : $"healthy: http://127.0.0.1:{expectedPort}/readyz answered 200";
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        ProcessResult result;
        do
        {
            Assert.False(container.Process.HasExited, container.Process.Describe());
            result = await container.ExecAsync(test);
            if (!result.StandardOutput.Contains(expected, StringComparison.Ordinal))
            {
                // The server is still starting (or the task is not running yet): ask again shortly.
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
        while (!result.StandardOutput.Contains(expected, StringComparison.Ordinal) && DateTime.UtcNow < deadline);

        Assert.True(result.StandardOutput.Contains(expected, StringComparison.Ordinal), $"{component}'s HEALTHCHECK never said '{expected}': {result.Describe()}{Environment.NewLine}{container.Process.Describe()}");
        Assert.Equal(component != "agent", result.Succeeded);
        if (component == "agent")
        {
            Assert.Contains("no tracker reachable", container.Process.Describe(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OriginAndTrackerImages_UnderContainerd_ServePushPullAndMetaInfoAsTheAppUser()
    {
        await using var origin = await RunOriginAsync();
        await using var tracker = await RunTrackerAsync(origin.Url);

        // A push to and a pull from the origin container.
        using var work = new TempDirectory("img-op");
        var image = await OciImageBuilder.BuildAsync(work.Combine("layout"), "v1", randomMiB: 4, seed: 19);
        var pushed = await Skopeo.PushAsync(image.Reference, $"docker://{origin.Host}/deploy/origin:v1");
        await Skopeo.CopyOrThrowAsync($"docker://{origin.Host}/deploy/origin:v1", Skopeo.Dir(work.Combine("pulled")));
        var pulled = DirImageLayout.Open(work.Combine("pulled"));
        Assert.Empty(pulled.Problems());
        Assert.Equal(pushed, pulled.ManifestDigest());

        // The tracker container fetched the blob's metainfo from the origin container to write a .torrent for it.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var layer = pulled.Manifest()["layers"]![1]!["digest"]!.GetValue<string>();
        var torrent = await http.GetByteArrayAsync(new Uri(tracker.Url, "/p2p/v1/torrent/" + layer));
        Assert.StartsWith("d8:announce", System.Text.Encoding.ASCII.GetString(torrent), StringComparison.Ordinal);

        foreach (var (component, container) in new (string, CtrContainer)[] { ("origin", origin.Container), ("tracker", tracker.Container) })
        {
            await AssertHealthcheckPassesAsync(component, container);
            Assert.Equal(AppUid, await ProcessUidAsync(container));
        }
    }

    [Fact]
    public async Task AgentImage_UnderContainerd_IsTheMirrorContainerdPullsThrough()
    {
        await using var origin = await RunOriginAsync();
        await using var tracker = await RunTrackerAsync(origin.Url);
        var agentPort = FreePort.Next();
        var agentUrl = new Uri($"http://127.0.0.1:{agentPort}/");
        await using var agent = await _fixture.RunAsync(
            "agent",
            new Dictionary<string, string>
            {
                ["Agent__RegistryUrl"] = $"http://127.0.0.1:{agentPort}",
                ["Agent__PeerAddress"] = "127.0.0.1",
                ["Agent__PeerPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
                ["Agent__TrackerUrl"] = $"http://127.0.0.1:{tracker.GrpcPort}",
                ["Agent__OriginUrl"] = origin.Url.ToString().TrimEnd('/'),
                // Generous on a loaded machine: past it the agent answers 404 and containerd would try the unresolvable server.
                ["Agent__MissTimeout"] = "00:00:20",
            },
            Readiness.HttpOk(new Uri(agentUrl, "/readyz")));
        _output.WriteLine($"agent image: ctr run to /readyz in {agent.StartedToReady.TotalMilliseconds:F0} ms");

        using var work = new TempDirectory("img-ag");
        var image = await OciImageBuilder.BuildAsync(work.Combine("layout"), "v1", randomMiB: 8, seed: 1919);
        await Skopeo.PushAsync(image.Reference, $"docker://{origin.Host}/deploy/agent:v1", new SkopeoCopyOptions { PreserveDigests = true });

        // The registry's own name does not resolve: only the agent (the first host tried) can serve this pull. It is
        // the origin's Origin__RegistryNames__0, so the agent's ns for it reaches pushed content.
        var registry = origin.RegistryName;
        var containerd = _fixture.Containerd;
        containerd.WriteHostsToml(registry, new Uri($"http://{registry}"), agentUrl);
        await containerd.CtrOrThrowAsync(["images", "pull", "--plain-http", "--hosts-dir", containerd.HostsDirectory, $"{registry}/deploy/agent:v1"], TimeSpan.FromMinutes(3));

        var served = await AgentProcess.MetricAsync(agentUrl, "p2pregistry_agent_bytes_served_bytes_total");
        Assert.True(served >= image.Layers.Sum(l => l.Size), $"the agent served {served} bytes; the image's layers are {image.Layers.Sum(l => l.Size)}");
        await AssertHealthcheckPassesAsync("agent", agent);
        Assert.Equal(AppUid, await ProcessUidAsync(agent));

        // The app user writes its data folder and cannot change the program.
        var data = await agent.ExecAsync(["/bin/sh", "-c", "touch /var/lib/p2pregistry/written-by-app"]);
        Assert.True(data.Succeeded, data.Describe());
        var program = await agent.ExecAsync(["/bin/sh", "-c", "touch /app/P2PRegistry.Agent"]);
        Assert.False(program.Succeeded, "the app user could write /app/P2PRegistry.Agent");
        await containerd.CtrAsync(["images", "rm", $"{registry}/deploy/agent:v1"]);
    }

    private async Task<RunningOrigin> RunOriginAsync()
    {
        var port = FreePort.Next();
        var container = await _fixture.RunAsync(
            "origin",
            new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["Origin__Peer__Address"] = "127.0.0.1",
                ["Origin__Peer__Port"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
                // Anonymous push is off by default; these tests are about the image, not about who may push.
                ["Origin__Push__AllowAnonymous"] = "true",
                // The name containerd pulls pushed images by (its ns through the agent); direct pulls send no ns.
                ["Origin__RegistryNames__0"] = RegistryNameFor(port),
            },
            Readiness.HttpOk(new Uri($"http://127.0.0.1:{port}/readyz")));
        _output.WriteLine($"origin image: ctr run to /readyz in {container.StartedToReady.TotalMilliseconds:F0} ms");
        return new RunningOrigin(container, new Uri($"http://127.0.0.1:{port}/"));
    }

    private async Task<RunningTracker> RunTrackerAsync(Uri originUrl)
    {
        var httpPort = FreePort.Next();
        var grpcPort = FreePort.Next();
        var container = await _fixture.RunAsync(
            "tracker",
            new Dictionary<string, string>
            {
                ["Tracker__HttpUrl"] = $"http://127.0.0.1:{httpPort}",
                ["Tracker__GrpcUrl"] = $"http://127.0.0.1:{grpcPort}",
                ["Tracker__OriginUrl"] = originUrl.ToString().TrimEnd('/'),
            },
            Readiness.HttpOk(new Uri($"http://127.0.0.1:{httpPort}/readyz")));
        _output.WriteLine($"tracker image: ctr run to /readyz in {container.StartedToReady.TotalMilliseconds:F0} ms");
        return new RunningTracker(container, new Uri($"http://127.0.0.1:{httpPort}/"), grpcPort);
    }

    /// <summary>Runs the image's own HEALTHCHECK command inside the running container (its environment, its user).</summary>
    private async Task AssertHealthcheckPassesAsync(string component, CtrContainer container)
    {
        var test = Strings(_fixture[component].Config["Healthcheck"]!["Test"]);
        Assert.Equal("CMD", test[0]);
        var result = await container.ExecAsync(test.Skip(1));
        Assert.True(result.Succeeded, $"{component} HEALTHCHECK failed: {result.Describe()}");
    }

    /// <summary>The real UID of the container's main process, from /proc on the host (ctr task ls gives its PID).</summary>
    private async Task<string> ProcessUidAsync(CtrContainer container)
    {
        var tasks = await _fixture.Containerd.CtrOrThrowAsync(["task", "ls"], TimeSpan.FromMinutes(1));
        var row = tasks.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Single(fields => fields[0] == container.Id);
        var status = await File.ReadAllLinesAsync($"/proc/{row[1]}/status");
        // "Uid:\t<real>\t<effective>\t<saved>\t<fs>"
        return status.Single(line => line.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
    }

    private static string RegistryNameFor(int originPort) => $"origin.lab:{originPort}";

    private static List<string> Strings(JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<string>()).ToList();

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);

    private sealed record RunningOrigin(CtrContainer Container, Uri Url) : IAsyncDisposable
    {
        public string Host => $"127.0.0.1:{Url.Port}";

        /// <summary>The unresolvable name containerd pulls pushed images by (the origin's <c>Origin__RegistryNames__0</c>).</summary>
        public string RegistryName => RegistryNameFor(Url.Port);

        public ValueTask DisposeAsync() => Container.DisposeAsync();
    }

    private sealed record RunningTracker(CtrContainer Container, Uri Url, int GrpcPort) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Container.DisposeAsync();
    }
}

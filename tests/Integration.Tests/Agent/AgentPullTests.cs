using System.Diagnostics;
using System.Net;
using P2PRegistry.Integration.Tests.Origin;
using P2PRegistry.Integration.Tests.Swarm;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// The whole system as processes: origin, tracker, agents A and B; containerd pulls through the agents with a
/// hosts.toml whose <c>server</c> does not resolve, so every byte containerd gets came through an agent.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentPullTests(ITestOutputHelper output) : IAsyncLifetime
{
    // These agents must serve, not fall back: a source that exists is waited for (Agent:SourceTimeout) however loaded the
    // machine; Agent:MissTimeout keeps its default, the answer when no source exists.
    private const string PatientSources = "--Agent:SourceTimeout=00:00:30";

    private const string UnresolvableRegistry = "origin.invalid:5000";
    private OriginProcess _origin = null!;
    private TrackerProcess _tracker = null!;
    private AgentProcess _agentA = null!;
    private AgentProcess _agentB = null!;

    public async Task InitializeAsync()
    {
        // containerd pulls origin.invalid:5000/…: that is the name clients use for this origin (Origin:RegistryNames),
        // so the agent's ns for it reaches pushed content.
        _origin = await OriginProcess.StartAsync(new OriginOptions
        {
            RegistryNames = [UnresolvableRegistry],
            OnOutputLine = Log("origin"),
        });
        _tracker = await TrackerProcess.StartAsync(_origin.BaseAddress, Log("tracker"));
        // The fast-miss path (no source: Agent:MissTimeout, default) is tested below with tracker and origin gone.
        _agentA = await AgentProcess.StartAsync("agent-a", _tracker.GrpcUrl, _origin.BaseAddress, Log("agent-a"), PatientSources);
        _agentB = await AgentProcess.StartAsync("agent-b", _tracker.GrpcUrl, _origin.BaseAddress, Log("agent-b"), PatientSources);
    }

    public async Task DisposeAsync()
    {
        await _agentB.DisposeAsync();
        await _agentA.DisposeAsync();
        await _tracker.DisposeAsync();
        await _origin.DisposeAsync();
    }

    [Fact]
    public async Task CtrPull_ThroughAgentA_ThenAgentB_WhichTakesPiecesFromA()
    {
        var image = (await TestImages.GetAsync()).Big;
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(_origin.Host, "agent/big", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        var reference = $"{UnresolvableRegistry}/agent/big:v1";

        await using (var nodeA = await ContainerdProcess.StartAsync(output.WriteLine))
        {
            nodeA.WriteHostsToml(UnresolvableRegistry, new Uri($"http://{UnresolvableRegistry}"), _agentA.BaseAddress);
            await nodeA.CtrOrThrowAsync(["images", "pull", "--hosts-dir", nodeA.HostsDirectory, reference], TimeSpan.FromMinutes(2));
            await AssertUnpackedAsync(nodeA, reference, image);
        }

        await using (var nodeB = await ContainerdProcess.StartAsync(output.WriteLine))
        {
            nodeB.WriteHostsToml(UnresolvableRegistry, new Uri($"http://{UnresolvableRegistry}"), _agentB.BaseAddress);
            await nodeB.CtrOrThrowAsync(["images", "pull", "--hosts-dir", nodeB.HostsDirectory, reference], TimeSpan.FromMinutes(2));
            await AssertUnpackedAsync(nodeB, reference, image);
        }

        var fromPeersA = await _agentA.MetricAsync("p2pregistry_agent_bytes_from_peers_bytes_total");
        var fromOriginsA = await _agentA.MetricAsync("p2pregistry_agent_bytes_from_origins_bytes_total");
        var fromPeersB = await _agentB.MetricAsync("p2pregistry_agent_bytes_from_peers_bytes_total");
        var fromOriginsB = await _agentB.MetricAsync("p2pregistry_agent_bytes_from_origins_bytes_total");
        var uploadedA = await _agentA.MetricAsync("p2pregistry_swarm_bytes_uploaded_bytes_total");
        output.WriteLine($"[test] A: {fromPeersA} from peers, {fromOriginsA} from origins; B: {fromPeersB} from peers, {fromOriginsB} from origins; A uploaded {uploadedA}");
        var imageBytes = image.Layers.Sum(l => l.Size);
        Assert.True(fromOriginsA >= imageBytes, "agent A (first in the swarm) got the image from the origin");
        Assert.True(fromPeersB > 0 && uploadedA > 0, "agent B took no piece from agent A");
        Assert.True(fromPeersB + fromOriginsB >= imageBytes);
    }

    [Fact]
    public async Task CtrPull_KilledMidBlob_RunAgain_ResumesWithRangeAndCompletes()
    {
        var image = (await TestImages.GetAsync()).Big;
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(_origin.Host, "agent/resume", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        var reference = $"{UnresolvableRegistry}/agent/resume:v1";

        // 16 MiB/s between containerd and the agent: the 64 MiB layer takes ~4 s; ctr dies a quarter of the way in.
        await using var proxy = TcpProxy.Start(_agentA.Port, bytesPerSecond: 16L << 20);
        await using var node = await ContainerdProcess.StartAsync(output.WriteLine);
        node.WriteHostsToml(UnresolvableRegistry, new Uri($"http://{UnresolvableRegistry}"), new Uri($"http://{proxy.Host}"));
        await using (var pull = ManagedProcess.Start(new ManagedProcessOptions("ctr", ["-a", node.Socket, "images", "pull", "--hosts-dir", node.HostsDirectory, reference])
        {
            Name = "ctr-pull",
            OnOutputLine = output.WriteLine,
        }))
        {
            for (var i = 0; i < 600 && proxy.BytesToClients < 16L << 20 && !pull.HasExited; i++)
            {
                await Task.Delay(50);
            }

            Assert.False(pull.HasExited, "the throttled pull ended before it could be interrupted: " + pull.Describe());
            pull.Kill();
        }

        proxy.SetRate(0);
        var requestsBefore = proxy.ClientTraffic().Count;
        await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, reference], TimeSpan.FromMinutes(2));
        var resumed = proxy.ClientTraffic().Skip(requestsBefore)
            .Where(t => t.Contains($"/blobs/{image.Layers[^1].Digest}", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(resumed, t => t.Contains("range: bytes=", StringComparison.OrdinalIgnoreCase));
        await AssertUnpackedAsync(node, reference, image);
    }

    internal static async Task AssertUnpackedAsync(ContainerdProcess node, string reference, OciImage image)
    {
        var content = await node.Ctr("content", "ls", "-q");
        foreach (var digest in image.BlobDigests)
        {
            Assert.Contains(digest, content.StandardOutput, StringComparison.Ordinal);
        }

        // REF TYPE DIGEST STATUS SIZE UNPACKED → "complete (n/n)" and unpacked "true".
        var check = await node.Ctr("images", "check", $"name=={reference}");
        var line = check.StandardOutput.Split('\n').Single(l => l.StartsWith(reference + " ", StringComparison.Ordinal));
        var blobs = image.Layers.Count + 1;
        Assert.Contains($"complete ({blobs}/{blobs})", line, StringComparison.Ordinal);
        Assert.EndsWith("true", line.TrimEnd(), StringComparison.Ordinal);
    }

    private Action<string> Log(string name) => line =>
    {
        try
        {
            output.WriteLine($"[{name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // Output after the test ended.
        }
    };
}

/// <summary>
/// Tracker and origin stopped: the agent answers 404 at once for what it lacks, and containerd completes the
/// pull from the real registry (a docker-registry holding the same image) named as <c>server</c>.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class AgentFallbackTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TrackerAndOriginDown_AgentMissesFast_ContainerdFallsBackToTheRegistry()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        await using var registry = await DockerRegistryProcess.StartAsync();
        await using var origin = await OriginProcess.StartAsync();
        await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress);
        await using var agent = await AgentProcess.StartAsync("agent-fallback", tracker.GrpcUrl, origin.BaseAddress, output.WriteLine);
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(registry.Host, "agent/fallback", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(origin.Host, "agent/fallback", "v1"), new SkopeoCopyOptions { PreserveDigests = true });

        await tracker.Process.StopAsync();
        await origin.StopAsync();

        using (var http = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromSeconds(3) })
        {
            var clock = Stopwatch.StartNew();
            using var response = await http.GetAsync($"/v2/agent/fallback/blobs/{image.Layers[^1].Digest}?ns={Uri.EscapeDataString(registry.Host)}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            output.WriteLine($"[test] blob miss answered in {clock.ElapsedMilliseconds} ms");
        }

        var reference = $"{registry.Host}/agent/fallback:v1";
        await using var node = await ContainerdProcess.StartAsync(output.WriteLine);
        node.WriteHostsToml(registry.Host, registry.BaseAddress, agent.BaseAddress);
        await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, reference], TimeSpan.FromMinutes(2));
        await AgentPullTests.AssertUnpackedAsync(node, reference, image);
        Assert.True(await agent.MetricAsync("p2pregistry_agent_fast_misses_total") >= 2, "the agent did not answer the pull's requests with fast misses");
    }
}

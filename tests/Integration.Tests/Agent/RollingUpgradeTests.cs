using System.Diagnostics;
using P2PRegistry.Integration.Tests.Origin;
using P2PRegistry.Integration.Tests.Swarm;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// A rolling upgrade of the DaemonSet replaces the node's agent while containerd may be pulling through it. The agent
/// is killed in the middle of a <c>ctr</c> pull (its layer half streamed) and started again on the same port and data
/// folder; containerd, configured by node-setup, falls back to the real registry (<c>server</c>) while the agent is
/// away, and the pull completes with every digest right.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class RollingUpgradeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AgentKilledAndRestartedDuringCtrPull_PullCompletesWithCorrectDigests()
    {
        var image = (await TestImages.GetAsync()).Big;
        await using var registry = await DockerRegistryProcess.StartAsync(new DockerRegistryOptions { OnOutputLine = Log("registry") });
        // containerd pulls registry.Host/… through the agent (ns = registry.Host): that name is the origin's own
        // (Origin:RegistryNames), so the agent serves the image pushed to the origin; the registry is the fallback.
        await using var origin = await OriginProcess.StartAsync(new OriginOptions { OnOutputLine = Log("origin"), RegistryNames = [registry.Host] });
        await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress, Log("tracker"));
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(registry.Host, "rolling/big", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(origin.Host, "rolling/big", "v1"), new SkopeoCopyOptions { PreserveDigests = true });

        using var data = new TempDirectory("agent-rolling");
        var port = FreePort.Next();
        var agent = await AgentProcess.StartAsync("agent-old", tracker.GrpcUrl, origin.BaseAddress, data.Path, port, Log("agent-old"), "--Agent:MissTimeout=00:00:10");
        try
        {
            // 16 MiB/s between containerd and the agent: the 64 MiB layer streams for about 4 s.
            await using var proxy = TcpProxy.Start(port, bytesPerSecond: 16L << 20);
            await using var node = await ContainerdProcess.StartAsync(Log("containerd"));
            var setup = await ProcessRunner.RunAsync("dotnet",
            [
                RepositoryPaths.ProjectDll("Agent", "P2PRegistry.Agent"), "node-setup", "--hosts-dir", node.HostsDirectory,
                "--registry", $"{registry.Host}=http://{registry.Host}", "--no-default", "--agent-url", $"http://{proxy.Host}",
                "--containerd-config", node.ConfigFile,
            ], TimeSpan.FromMinutes(1));
            Assert.True(setup.Succeeded, setup.Describe());

            var reference = $"{registry.Host}/rolling/big:v1";
            var layerPath = $"/v2/rolling/big/blobs/{image.Layers[^1].Digest}";
            await using var pull = ManagedProcess.Start(new ManagedProcessOptions("ctr", ["-a", node.Socket, "images", "pull", "--hosts-dir", node.HostsDirectory, reference])
            {
                Name = "ctr-pull",
                OnOutputLine = Log("ctr"),
            });
            for (var i = 0; i < 1200 && proxy.BytesToClients < 16L << 20 && !pull.HasExited; i++)
            {
                await Task.Delay(50);
            }

            Assert.False(pull.HasExited, "the pull ended before the agent could be restarted under it: " + pull.Describe());
            var registryLayerGetsBefore = registry.CountRequests("GET", layerPath);
            // The pull went through the agent up to the kill, not to the fallback.
            Assert.True(proxy.BytesToClients >= 16L << 20, $"the agent streamed only {proxy.BytesToClients} bytes before the kill");
            Assert.Equal(0, registryLayerGetsBefore);
            var clock = Stopwatch.StartNew();
            agent.Process.Kill();
            await agent.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
            await agent.DisposeAsync();
            agent = await AgentProcess.StartAsync("agent-new", tracker.GrpcUrl, origin.BaseAddress, data.Path, port, Log("agent-new"), "--Agent:MissTimeout=00:00:10");
            output.WriteLine($"[test] agent away for {clock.ElapsedMilliseconds} ms");
            proxy.SetRate(0);

            await pull.WaitForExitAsync(TimeSpan.FromMinutes(3));
            Assert.True(pull.ExitCode == 0, "the pull failed across the agent restart: " + pull.Describe());
            await AgentPullTests.AssertUnpackedAsync(node, reference, image);
            var fromRegistry = registry.CountRequests("GET", layerPath) - registryLayerGetsBefore;
            var throughAgent = proxy.ClientTraffic().Count(t => t.Contains(layerPath, StringComparison.Ordinal));
            output.WriteLine($"[test] layer GETs to the registry after the kill: {fromRegistry}; to the agents: {throughAgent}");
            // The cut stream was asked for again: from the registry (containerd's fallback) or from the new agent.
            Assert.True(fromRegistry + throughAgent >= 2, $"the layer was not fetched again after the kill ({fromRegistry} from the registry, {throughAgent} from the agents)");
        }
        finally
        {
            await agent.DisposeAsync();
        }
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

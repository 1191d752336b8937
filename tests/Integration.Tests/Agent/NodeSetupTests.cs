using P2PRegistry.Integration.Tests.Origin;
using P2PRegistry.Integration.Tests.Swarm;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// The agent's <c>node-setup</c> sub-command as the DaemonSet's init container runs it, against a real containerd with
/// the CRI plugin: after it alone, a <c>ctr</c> pull and a CRI pull (what kubelet does) go through the agent; after
/// <c>--restore</c> the hosts directory is what it was, byte for byte. The registry's real name does not resolve, so
/// every pull that succeeds was served by the agent.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class NodeSetupTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Registry = "origin.invalid:5000";
    private const string OtherRegistry = "other.invalid:5000";
    private static readonly byte[] OperatorsFile = "# the operator's own file\nserver = \"http://origin.invalid:5000\"\n"u8.ToArray();

    private OriginProcess _origin = null!;
    private TrackerProcess _tracker = null!;
    private AgentProcess _agent = null!;

    public async Task InitializeAsync()
    {
        // Both registries are pulled through the agent (their ns): they are names clients use for this origin.
        _origin = await OriginProcess.StartAsync(new OriginOptions { OnOutputLine = Log("origin"), RegistryNames = [Registry, OtherRegistry] });
        _tracker = await TrackerProcess.StartAsync(_origin.BaseAddress, Log("tracker"));
        // Generous: on a loaded machine the first metainfo (tracker → origin) can take more than 10 s.
        _agent = await AgentProcess.StartAsync("agent-node", _tracker.GrpcUrl, _origin.BaseAddress, Log("agent"), "--Agent:MissTimeout=00:00:30");
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _tracker.DisposeAsync();
        await _origin.DisposeAsync();
    }

    [Fact]
    public async Task NodeSetup_ThenCtrAndCriPullsGoThroughTheAgent_RestorePutsTheOriginalsBack()
    {
        var images = await TestImages.GetAsync();
        var small = images.SmallAmd64;
        var big = images.Big;
        await Skopeo.PushAsync(small.Reference, Skopeo.Docker(_origin.Host, "node/small", "v1"), new SkopeoCopyOptions { PreserveDigests = true });
        await Skopeo.PushAsync(big.Reference, Skopeo.Docker(_origin.Host, "node/big", "v1"), new SkopeoCopyOptions { PreserveDigests = true });

        await using var node = await ContainerdProcess.StartWithCriAsync(Log("containerd"));
        // What the node had before: the operator's file for the registry, and a certificate folder of another one.
        Directory.CreateDirectory(Path.Combine(node.HostsDirectory, Registry));
        await File.WriteAllBytesAsync(Path.Combine(node.HostsDirectory, Registry, "hosts.toml"), OperatorsFile);
        Directory.CreateDirectory(Path.Combine(node.HostsDirectory, "ghcr.io"));
        await File.WriteAllTextAsync(Path.Combine(node.HostsDirectory, "ghcr.io", "ca.crt"), "not a real certificate");
        var before = Snapshot(node.HostsDirectory);

        var setup = await NodeSetupAsync("--hosts-dir", node.HostsDirectory, "--registry", $"{Registry}=http://{Registry}", "--agent-url",
            _agent.BaseAddress.GetLeftPart(UriPartial.Authority), "--containerd-config", node.ConfigFile, "--strict");
        Assert.True(setup.Succeeded, setup.Describe());
        Assert.Contains("the CRI plugin reads", setup.StandardOutput, StringComparison.Ordinal);

        // ctr: the ctr process does the HTTP, reading the hosts directory it is given.
        var manifests = await _agent.MetricAsync("p2pregistry_agent_manifests_served_total");
        var ctrReference = $"{Registry}/node/small:v1";
        await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, ctrReference], TimeSpan.FromMinutes(2));
        await AgentPullTests.AssertUnpackedAsync(node, ctrReference, small);
        var afterCtr = await _agent.MetricAsync("p2pregistry_agent_manifests_served_total");
        Assert.True(afterCtr > manifests, $"the agent served no manifest to ctr ({manifests} → {afterCtr})");

        // CRI: the containerd daemon does the HTTP, through the CRI plugin's config_path, as for kubelet.
        var servedBefore = await _agent.MetricAsync("p2pregistry_agent_bytes_served_bytes_total");
        var imageId = await CriImageClient.PullAsync(node.Socket, $"{Registry}/node/big:v1", TimeSpan.FromMinutes(3));
        Assert.Equal(big.ConfigDigest, imageId);
        var servedAfter = await _agent.MetricAsync("p2pregistry_agent_bytes_served_bytes_total");
        Assert.True(servedAfter - servedBefore >= big.Layers.Sum(l => l.Size), $"the agent served {servedAfter - servedBefore} bytes to the CRI pull");
        var criContent = await node.Ctr("-n", ContainerdProcess.CriNamespace, "content", "ls", "-q");
        Assert.All(big.BlobDigests, d => Assert.Contains(d, criContent.StandardOutput, StringComparison.Ordinal));

        // _default: a registry with no folder of its own goes through the agent as well (it learns the registry from ns).
        var defaultId = await CriImageClient.PullAsync(node.Socket, $"{OtherRegistry}/node/small:v1", TimeSpan.FromMinutes(2));
        Assert.Equal(small.ConfigDigest, defaultId);

        var restore = await NodeSetupAsync("--restore", "--hosts-dir", node.HostsDirectory);
        Assert.True(restore.Succeeded, restore.Describe());
        output.WriteLine(restore.StandardOutput);
        Assert.Equal(before, Snapshot(node.HostsDirectory));
        Assert.Equal(OperatorsFile, await File.ReadAllBytesAsync(Path.Combine(node.HostsDirectory, Registry, "hosts.toml")));
    }

    [Fact]
    public async Task NodeSetup_ContainerdWithoutConfigPath_SaysWhatToAdd_AndStrictFails()
    {
        using var temp = new TempDirectory("nodesetup-cfg");
        var config = temp.Combine("config.toml");
        await File.WriteAllTextAsync(config, "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.9\"\n");
        var hosts = temp.Combine("certs.d");

        var lenient = await NodeSetupAsync("--hosts-dir", hosts, "--containerd-config", config);
        var strict = await NodeSetupAsync("--hosts-dir", hosts, "--containerd-config", config, "--strict");

        Assert.Equal(0, lenient.ExitCode);
        Assert.Contains($"[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"{hosts}\"", lenient.StandardError, StringComparison.Ordinal);
        Assert.Equal(4, strict.ExitCode);
    }

    private static Task<ProcessResult> NodeSetupAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", [RepositoryPaths.ProjectDll("Agent", "P2PRegistry.Agent"), "node-setup", .. arguments], TimeSpan.FromMinutes(1));

    internal static SortedDictionary<string, string> Snapshot(string directory)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories))
        {
            result[Path.GetRelativePath(directory, entry)] = File.Exists(entry) ? Convert.ToBase64String(File.ReadAllBytes(entry)) : "<dir>";
        }

        return result;
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

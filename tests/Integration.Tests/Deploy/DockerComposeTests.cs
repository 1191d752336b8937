using System.Globalization;
using System.Text.RegularExpressions;
using P2PRegistry.Testing.Yaml;

namespace P2PRegistry.Integration.Tests.Deploy;

/// <summary>
/// <c>docker-compose.yml</c> at the repository root, as Debian's docker-compose (1.29) renders it: valid, five services
/// built from <c>deploy/docker/Dockerfile</c>'s targets, and the ports and settings of <c>run.sh</c> (whose defaults
/// are read from the script itself), published on 127.0.0.1 only.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed partial class DockerComposeTests
{
    private static string ComposeFile => Path.Combine(RepositoryPaths.Root, "docker-compose.yml");

    [Fact]
    public async Task Config_Quiet_Validates()
    {
        var result = await ProcessRunner.RunAsync("docker-compose", ["-f", ComposeFile, "config", "-q"], TimeSpan.FromMinutes(1));
        Assert.True(result.Succeeded, result.Describe());
        Assert.Equal("", result.StandardOutput.Trim());
    }

    [Fact]
    public async Task Config_Services_AreBuiltFromTheDockerfileTargets()
    {
        var services = await RenderedServicesAsync();
        Assert.Equal(["agent-a", "agent-b", "agent-c", "origin", "tracker"], services.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, service) in services)
        {
            var build = Map(service["build"]);
            var context = (string)build["context"];
            Assert.True(Directory.Exists(context), $"{name}: build context {context} does not exist");
            var dockerfile = Path.Combine(context, (string)build["dockerfile"]);
            Assert.True(File.Exists(dockerfile), $"{name}: {dockerfile} does not exist");
            var target = (string)build["target"];
            Assert.Equal(name.StartsWith("agent-", StringComparison.Ordinal) ? "agent" : name, target);
            Assert.Contains(target, Targets(await File.ReadAllTextAsync(dockerfile)));
            // The context is the repository root; the images copy only what publish.sh wrote there.
            Assert.Equal(RepositoryPaths.Root, Path.TrimEndingDirectorySeparator(Path.GetFullPath(context)));
        }

        Assert.Equal(
            ["*", "!artifacts/publish/"],
            (await File.ReadAllLinesAsync(Path.Combine(RepositoryPaths.Root, ".dockerignore"))).Where(l => l.Length > 0 && l[0] != '#'));
    }

    [Fact]
    public async Task Config_PortsAndSettings_MatchRunSh()
    {
        var run = await RunShDefaultsAsync();
        var services = await RenderedServicesAsync();
        var originPort = run["ORIGIN_PORT"];
        var trackerGrpcPort = run["TRACKER_GRPC_PORT"];

        Assert.Equal([(originPort, originPort), (run["ORIGIN_PEER_PORT"], run["ORIGIN_PEER_PORT"])], Ports(services["origin"]));
        var origin = Environment(services["origin"]);
        Assert.Equal(run["ORIGIN_PEER_PORT"], origin["Origin__Peer__Port"]);
        var originAddress = (string)Map(Map(services["origin"]["networks"])["p2p"])["ipv4_address"];
        Assert.Equal(originAddress, origin["Origin__Peer__AdvertiseAddress"]);
        // A demo like run.sh: anonymous push; pushed images answer under the names containerd and the agents use.
        Assert.Equal("true", origin["Origin__Push__AllowAnonymous"]);
        Assert.Equal($"127.0.0.1:{originPort}", origin["Origin__RegistryNames__0"]);
        Assert.Equal($"origin:{originPort}", origin["Origin__RegistryNames__1"]);

        Assert.Equal([(run["TRACKER_HTTP_PORT"], run["TRACKER_HTTP_PORT"]), (trackerGrpcPort, trackerGrpcPort)], Ports(services["tracker"]));
        Assert.Equal($"http://origin:{originPort}", Environment(services["tracker"])["Tracker__OriginUrl"]);

        // run.sh starts agents A and B; the compose file adds a third on the next ports.
        var agents = new Dictionary<string, (string Port, string PeerPort)>
        {
            ["agent-a"] = (run["AGENT_A_PORT"], run["AGENT_A_PEER_PORT"]),
            ["agent-b"] = (run["AGENT_B_PORT"], run["AGENT_B_PEER_PORT"]),
            ["agent-c"] = (Next(run["AGENT_B_PORT"]), Next(run["AGENT_B_PEER_PORT"])),
        };
        var volumes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, (port, peerPort)) in agents)
        {
            Assert.Equal([(port, port), (peerPort, peerPort)], Ports(services[name]));
            var environment = Environment(services[name]);
            Assert.Equal($"http://0.0.0.0:{port}", environment["Agent__RegistryUrl"]);
            Assert.Equal(peerPort, environment["Agent__PeerPort"]);
            Assert.Equal($"http://tracker:{trackerGrpcPort}", environment["Agent__TrackerUrl"]);
            Assert.Equal($"http://origin:{originPort}", environment["Agent__OriginUrl"]);
            var volume = Assert.Single(List(services[name]["volumes"]).Cast<string>());
            Assert.EndsWith(":/var/lib/p2pregistry:rw", volume, StringComparison.Ordinal);
            Assert.True(volumes.Add(volume), $"{name} shares its data volume: {volume}");
        }
    }

    [Fact]
    public async Task Config_EverySettingAServiceSets_IsOneTheComponentBinds()
    {
        var names = (await RenderedServicesAsync()).Values.SelectMany(service => Environment(service).Keys).ToList();

        Assert.Contains("Origin__RegistryNames__0", names);
        Assert.Contains("Agent__TrackerUrl", names);
        Assert.Empty(SettingNames.Unknown(names));
    }

    /// <summary>The services of <c>docker-compose config</c>'s output: what compose really runs, anchors and merges resolved.</summary>
    private static async Task<Dictionary<string, Dictionary<object, object>>> RenderedServicesAsync()
    {
        var result = await ProcessRunner.RunOrThrowAsync("docker-compose", ["-f", ComposeFile, "config"], TimeSpan.FromMinutes(1));
        var document = YamlDocuments.Parse(result.StandardOutput);
        return Map(document["services"]).ToDictionary(s => (string)s.Key, s => Map(s.Value), StringComparer.Ordinal);
    }

    /// <summary>Published ports as (host port, container port); every one must be bound to 127.0.0.1, as run.sh's are.</summary>
    private static List<(string Host, string Container)> Ports(Dictionary<object, object> service) =>
        List(service["ports"]).Cast<string>().Select(port =>
        {
            var match = PortPattern().Match(port);
            Assert.True(match.Success, $"port '{port}' is not published as 127.0.0.1:<host>:<container>/tcp");
            return (match.Groups["host"].Value, match.Groups["container"].Value);
        }).ToList();

    private static Dictionary<string, string> Environment(Dictionary<object, object> service) =>
        Map(service["environment"]).ToDictionary(e => (string)e.Key, e => (string)e.Value, StringComparer.Ordinal);

    /// <summary>run.sh's <c>NAME=${NAME:-value}</c> port defaults.</summary>
    private static async Task<Dictionary<string, string>> RunShDefaultsAsync()
    {
        var script = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "run.sh"));
        var defaults = RunShDefault().Matches(script).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);
        Assert.True(defaults.Count >= 8, $"run.sh's port defaults not found: {string.Join(", ", defaults.Keys)}");
        return defaults;
    }

    private static IEnumerable<string> Targets(string dockerfile) =>
        DockerfileStage().Matches(dockerfile).Select(m => m.Groups["target"].Value);

    private static string Next(string port) => (int.Parse(port, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);

    private static Dictionary<object, object> Map(object? node) => Assert.IsType<Dictionary<object, object>>(node);

    private static List<object> List(object? node) => Assert.IsType<List<object>>(node);

    [GeneratedRegex(@"^127\.0\.0\.1:(?<host>\d+):(?<container>\d+)/tcp$")]
    private static partial Regex PortPattern();

    [GeneratedRegex(@"^(?<name>[A-Z_]+_PORT)=\$\{\k<name>:-(?<value>\d+)\}", RegexOptions.Multiline)]
    private static partial Regex RunShDefault();

    [GeneratedRegex(@"^FROM\s+\S+\s+AS\s+(?<target>\S+)\s*$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex DockerfileStage();
}

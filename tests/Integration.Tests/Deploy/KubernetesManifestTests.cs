using P2PRegistry.Testing.Yaml;

namespace P2PRegistry.Integration.Tests.Deploy;

/// <summary>
/// <c>deploy/kubernetes</c> rendered by the real <c>kubectl kustomize</c>, every object validated against the Kubernetes
/// 1.27 API schema (<c>deploy/kubernetes/validate</c>, npm kubernetes-models 5.1.0, installed by test.sh), and the
/// properties the agent DaemonSet must have asserted on the parsed YAML; every component setting a manifest sets is
/// checked against the options classes the components bind.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class KubernetesManifestTests(ITestOutputHelper output)
{
    private static readonly string Kubernetes = Path.Combine(RepositoryPaths.Root, "deploy", "kubernetes");
    private static readonly string Validator = Path.Combine(Kubernetes, "validate");

    public static TheoryData<string> Kustomizations => new() { "base", "overlays/example", "overlays/ha" };

    public static TheoryData<string> AllKustomizations => new() { "base", "overlays/example", "overlays/ha", "uninstall" };

    [Theory]
    [MemberData(nameof(AllKustomizations))]
    public async Task Render_EveryObjectIsValidAgainstTheApiSchema(string kustomization)
    {
        using var temp = new TempDirectory("k8s");
        var rendered = temp.Combine("rendered.yaml");
        await File.WriteAllTextAsync(rendered, await RenderAsync(kustomization));

        var result = await ValidateAsync(rendered);

        output.WriteLine(result.StandardOutput);
        Assert.True(result.Succeeded, result.Describe());
        var kinds = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[1].Split('/')[0]).ToHashSet();
        Assert.Superset(kustomization switch
        {
            "uninstall" => ["DaemonSet"],
            // The ha overlay's trackers are a StatefulSet (stable names for the agents' list), not the base's Deployment.
            "overlays/ha" => ["DaemonSet", "StatefulSet", "Service", "ServiceAccount", "NetworkPolicy", "ConfigMap"],
            _ => new HashSet<string> { "DaemonSet", "StatefulSet", "Deployment", "Service", "ServiceAccount", "NetworkPolicy" },
        }, kinds);
    }

    [Fact]
    public async Task Validate_ABrokenObject_IsRejected()
    {
        var objects = Parse(await RenderAsync("base"));
        var daemonSet = Single(objects, "DaemonSet");
        var container = At(daemonSet, "spec", "template", "spec", "containers", "0");
        ((List<object>)At(container, "ports"))[0] = new Dictionary<object, object> { ["containerPort"] = "five thousand fifty" };
        ((Dictionary<object, object>)At(daemonSet, "spec", "template", "spec")).Remove("containers");
        using var temp = new TempDirectory("k8s-broken");
        var file = temp.Combine("broken.yaml");
        await File.WriteAllTextAsync(file, YamlDocuments.Serialize(daemonSet));

        var result = await ValidateAsync(file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("invalid DaemonSet/p2pregistry-agent", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("containers", result.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task AgentDaemonSet_HasWhatANodeAgentNeeds(string kustomization)
    {
        var objects = Parse(await RenderAsync(kustomization));
        var pod = At(Single(objects, "DaemonSet"), "spec", "template", "spec");
        var agent = At(pod, "containers", "0");
        var init = At(pod, "initContainers", "0");
        var env = Env(agent);

        Assert.Equal("system-node-critical", At(pod, "priorityClassName"));
        Assert.Contains(List(pod, "tolerations"), t => t is Dictionary<object, object> d && d.Count == 1 && (string)d["operator"] == "Exists");
        Assert.Equal("true", At(pod, "hostNetwork"));
        Assert.Equal("ClusterFirstWithHostNet", At(pod, "dnsPolicy"));

        // containerd reaches the agent where node-setup tells it to, and the kubelet probes it there.
        var registryUrl = new Uri(env["Agent__RegistryUrl"]);
        var initArgs = List(init, "args").Cast<string>().ToList();
        Assert.Equal("node-setup", initArgs[0]);
        Assert.Contains($"--agent-url={registryUrl.GetLeftPart(UriPartial.Authority)}", initArgs);
        Assert.Equal(At(agent, "image"), At(init, "image"));
        foreach (var (probe, path) in new[] { ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz") })
        {
            Assert.Equal(path, At(agent, probe, "httpGet", "path"));
            Assert.Equal(registryUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), At(agent, probe, "httpGet", "port"));
            Assert.Equal(registryUrl.Host, At(agent, probe, "httpGet", "host"));
        }

        // Host paths: the hosts directory for node-setup, the data folder for the agent.
        var hostsDir = initArgs.Single(a => a.StartsWith("--hosts-dir=", StringComparison.Ordinal))["--hosts-dir=".Length..];
        Assert.Equal(hostsDir, HostPathMountedAt(pod, init, hostsDir));
        Assert.Equal("/var/lib/p2pregistry/agent", HostPathMountedAt(pod, agent, env["Agent__DataPath"]));
        var config = initArgs.Single(a => a.StartsWith("--containerd-config=", StringComparison.Ordinal))["--containerd-config=".Length..];
        Assert.Equal("/etc/containerd", HostPathMountedAt(pod, init, Path.GetDirectoryName(config)!));

        // The agent runs as the image's non-root user; a root init container hands the data hostPath over to it.
        Assert.Equal("1654", At(agent, "securityContext", "runAsUser"));
        Assert.Equal("true", At(agent, "securityContext", "runAsNonRoot"));
        var owner = List(pod, "initContainers").Single(c => (string)At(c, "name") == "data-owner");
        Assert.Equal("/var/lib/p2pregistry/agent", HostPathMountedAt(pod, owner, env["Agent__DataPath"]));
        Assert.Equal($"chown -R 1654:1654 {env["Agent__DataPath"]}", List(owner, "command").Cast<string>().Last());
        Assert.Equal(["CHOWN"], List(At(owner, "securityContext", "capabilities"), "add").Cast<string>());

        // Node name and topology from the downward API.
        Assert.Equal("spec.nodeName", At(EnvEntry(agent, "NODE_NAME"), "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.labels['topology.kubernetes.io/zone']", At(EnvEntry(agent, "NODE_ZONE"), "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.labels['topology.kubernetes.io/region']", At(EnvEntry(agent, "NODE_REGION"), "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("status.hostIP", At(EnvEntry(agent, "NODE_IP"), "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("$(NODE_IP)", env["Agent__PeerAddress"]);
        Assert.Equal("$(NODE_ZONE)", env["Agent__Zone"]); // the node's zone is the agent's locality label

        foreach (var container in new[] { agent, init })
        {
            foreach (var kind in new[] { "requests", "limits" })
            {
                Assert.False(string.IsNullOrEmpty(At(container, "resources", kind, "cpu") as string), $"{At(container, "name")} has no {kind}.cpu");
                Assert.False(string.IsNullOrEmpty(At(container, "resources", kind, "memory") as string), $"{At(container, "name")} has no {kind}.memory");
            }
        }

        output.WriteLine($"[test] {kustomization}: agent requests cpu {At(agent, "resources", "requests", "cpu")}, memory {At(agent, "resources", "requests", "memory")}; " +
                         $"limits cpu {At(agent, "resources", "limits", "cpu")}, memory {At(agent, "resources", "limits", "memory")}; image {At(agent, "image")}");
    }

    [Fact]
    public async Task Overlay_SetsImageTags_AndTheOtherWorkloadsAreWired()
    {
        var objects = Parse(await RenderAsync("overlays/example"));
        var images = objects.Where(o => (string)o["kind"] is "DaemonSet" or "StatefulSet" or "Deployment")
            .SelectMany(o => List(At(o, "spec", "template", "spec"), "containers").Concat(TryList(At(o, "spec", "template", "spec"), "initContainers")))
            .Select(c => (string)At(c, "image")).ToHashSet();
        Assert.Equal(new HashSet<string> { "registry.example.com/p2pregistry/agent:0.1.0", "registry.example.com/p2pregistry/origin:0.1.0", "registry.example.com/p2pregistry/tracker:0.1.0" }, images);
        Assert.All(objects.Where(o => (string)o["kind"] != "Namespace"), o => Assert.Equal("p2pregistry", At(o, "metadata", "namespace")));

        var origin = Single(objects, "StatefulSet");
        Assert.NotEmpty(List(At(origin, "spec"), "volumeClaimTemplates"));
        var headless = objects.Single(o => (string)o["kind"] == "Service" && (string)At(o, "metadata", "name") == (string)At(origin, "spec", "serviceName"));
        Assert.Equal("None", At(headless, "spec", "clusterIP"));
        Assert.Equal("Deployment", (string)objects.Single(o => (string)At(o, "metadata", "name") == "p2pregistry-tracker" && (string)o["kind"] != "Service" && (string)o["kind"] != "NetworkPolicy" && (string)o["kind"] != "ServiceAccount")["kind"]);

        // Every Service selects a workload's pods; every workload's service account exists.
        var workloads = objects.Where(o => (string)o["kind"] is "DaemonSet" or "StatefulSet" or "Deployment").ToList();
        foreach (var service in objects.Where(o => (string)o["kind"] == "Service"))
        {
            var selector = (Dictionary<object, object>)At(service, "spec", "selector");
            Assert.Contains(workloads, w => selector.All(s => ((Dictionary<object, object>)At(w, "spec", "template", "metadata", "labels")).TryGetValue(s.Key, out var v) && Equals(v, s.Value)));
        }

        var accounts = objects.Where(o => (string)o["kind"] == "ServiceAccount").Select(o => (string)At(o, "metadata", "name")).ToHashSet();
        Assert.All(workloads, w => Assert.Contains((string)At(w, "spec", "template", "spec", "serviceAccountName"), accounts));
        Assert.Equal(2, objects.Count(o => (string)o["kind"] == "NetworkPolicy"));
    }

    [Fact]
    public async Task HaOverlay_TrackersShareRedis_AndEveryAgentListsEveryTracker()
    {
        var objects = Parse(await RenderAsync("overlays/ha"));
        var trackers = objects.Single(o => (string)o["kind"] == "StatefulSet" && (string)At(o, "metadata", "name") == "p2pregistry-tracker");
        Assert.DoesNotContain(objects, o => (string)o["kind"] == "Deployment");
        var env = Env(At(trackers, "spec", "template", "spec", "containers", "0"));

        // Every tracker on the one Redis, which a Service in the namespace serves.
        Assert.Equal("Redis", env["Tracker__PeerStore"]);
        var redisHost = env["Tracker__Redis__Configuration"].Split(',')[0].Split(':');
        var redisService = objects.Single(o => (string)o["kind"] == "Service" && (string)At(o, "metadata", "name") == redisHost[0]);
        Assert.Equal(redisHost[1], At(redisService, "spec", "ports", "0", "port"));
        var redis = objects.Single(o => (string)o["kind"] == "StatefulSet" && (string)At(o, "metadata", "name") == "p2pregistry-redis");
        Assert.Equal(At(redisService, "spec", "selector"), At(redis, "spec", "selector", "matchLabels"));

        // The agents' settings file names tracker 0…N-1 by the StatefulSet's stable names under its headless Service.
        var serviceName = (string)At(trackers, "spec", "serviceName");
        var headless = objects.Single(o => (string)o["kind"] == "Service" && (string)At(o, "metadata", "name") == serviceName);
        Assert.Equal("None", At(headless, "spec", "clusterIP"));
        var replicas = int.Parse((string)At(trackers, "spec", "replicas"), System.Globalization.CultureInfo.InvariantCulture);
        var pod = At(Single(objects, "DaemonSet"), "spec", "template", "spec");
        var agent = At(pod, "containers", "0");
        var settingsFile = Env(agent)["Agent__SettingsFile"];
        var mount = List(agent, "volumeMounts").Single(m => (string)At(m, "mountPath") == Path.GetDirectoryName(settingsFile));
        var volume = List(pod, "volumes").Single(v => (string)At(v, "name") == (string)At(mount, "name"));
        var configMap = objects.Single(o => (string)o["kind"] == "ConfigMap" && (string)At(o, "metadata", "name") == (string)At(volume, "configMap", "name"));
        using var settings = System.Text.Json.JsonDocument.Parse((string)At(configMap, "data", Path.GetFileName(settingsFile)));
        var urls = settings.RootElement.GetProperty("Agent").GetProperty("TrackerUrls").EnumerateArray().Select(u => u.GetString()!).ToList();
        Assert.Equal(Enumerable.Range(0, replicas).Select(i => $"http://p2pregistry-tracker-{i}.{serviceName}:7001"), urls);
        Assert.Empty(P2PRegistry.Testing.Yaml.SettingNames.Unknown(["Agent__TrackerUrls__0", "Agent__SettingsFile"]));
    }

    [Fact]
    public async Task Overlay_Origin_HasPushUsersFromASecret_AndTheNameNodesPullPushedImagesBy()
    {
        var objects = Parse(await RenderAsync("overlays/example"));
        var pod = At(Single(objects, "StatefulSet"), "spec", "template", "spec");
        var origin = At(pod, "containers", "0");
        var env = Env(origin);

        // Anonymous push stays off (the default); the htpasswd file comes from the Secret, with a user per prefix list.
        Assert.False(env.ContainsKey("Origin__Push__AllowAnonymous"), "the example overlay turns anonymous push on");
        var htpasswdPath = env["Origin__Push__HtpasswdFile"];
        var mount = List(origin, "volumeMounts").Single(m => (string)At(m, "mountPath") == Path.GetDirectoryName(htpasswdPath));
        var volume = List(pod, "volumes").Single(v => (string)At(v, "name") == (string)At(mount, "name"));
        var secret = objects.Single(o => (string)o["kind"] == "Secret" && (string)At(o, "metadata", "name") == (string)At(volume, "secret", "secretName"));
        var htpasswd = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)At(secret, "data", Path.GetFileName(htpasswdPath))));
        var users = htpasswd.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split(':')).ToDictionary(f => f[0], f => f[1]);
        var prefixed = env.Keys.Where(k => k.StartsWith("Origin__Push__Users__", StringComparison.Ordinal)).Select(k => k.Split("__")[3]).ToHashSet();
        Assert.NotEmpty(prefixed);
        Assert.All(prefixed, user => Assert.StartsWith("$2y$", users[user], StringComparison.Ordinal));

        // Pushed images answer only under Origin:RegistryNames: the nodes route that name through the agent.
        var name = env["Origin__RegistryNames__0"];
        var initArgs = List(At(Single(objects, "DaemonSet"), "spec", "template", "spec", "initContainers", "0"), "args").Cast<string>();
        Assert.Contains($"--registry={name}=http://{name}", initArgs);
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task EverySettingAManifestSets_IsOneTheComponentBinds(string kustomization)
    {
        var names = Parse(await RenderAsync(kustomization))
            .Where(o => (string)o["kind"] is "DaemonSet" or "StatefulSet" or "Deployment")
            .SelectMany(o => List(At(o, "spec", "template", "spec"), "containers"))
            .SelectMany(c => TryList(c, "env").Select(e => (string)At(e, "name")))
            .ToList();

        Assert.Contains("Agent__TrackerUrl", names);
        Assert.Empty(SettingNames.Unknown(names));
    }

    [Fact]
    public void UnknownSettings_FindsAMisspelledOrInventedName()
    {
        Assert.Equal(["Agent__RegistryUri", "Origin__Peer__Adress", "Tracker__Grpc", "Agnet__DataPath", "Origin__Push__Users__ci__Prefix"],
            SettingNames.Unknown(["Agent__RegistryUri", "Origin__Peer__Adress", "Tracker__Grpc", "Agnet__DataPath", "Origin__Push__Users__ci__Prefix",
                "Agent__DataPath", "Origin__Upstreams__0__Name", "Origin__Push__Users__ci__Prefixes__0", "Origin__RegistryNames__1", "NODE_NAME"]));
    }

    [Fact]
    public async Task InitContainerArgs_RunTheRealNodeSetup()
    {
        var pod = At(Single(Parse(await RenderAsync("overlays/example")), "DaemonSet"), "spec", "template", "spec");
        using var temp = new TempDirectory("k8s-init");
        var hosts = temp.Combine("certs.d");
        var args = List(At(pod, "initContainers", "0"), "args").Cast<string>()
            .Select(a => a.StartsWith("--hosts-dir=", StringComparison.Ordinal) ? $"--hosts-dir={hosts}"
                : a.StartsWith("--containerd-config=", StringComparison.Ordinal) ? $"--containerd-config={temp.Combine("config.toml")}" : a)
            .ToList();

        var result = await ProcessRunner.RunAsync("dotnet", [RepositoryPaths.ProjectDll("Agent", "P2PRegistry.Agent"), .. args], TimeSpan.FromMinutes(1));

        Assert.True(result.Succeeded, result.Describe());
        foreach (var registry in new[] { "docker.io", "ghcr.io", "quay.io", "_default" })
        {
            Assert.Contains("[host.\"http://127.0.0.1:5050\"]", await File.ReadAllTextAsync(Path.Combine(hosts, registry, "hosts.toml")), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task UninstallArgs_RunTheRealRestore()
    {
        var pod = At(Single(Parse(await RenderAsync("uninstall")), "DaemonSet"), "spec", "template", "spec");
        using var temp = new TempDirectory("k8s-restore");
        var hosts = temp.Combine("certs.d");
        var dll = RepositoryPaths.ProjectDll("Agent", "P2PRegistry.Agent");
        Directory.CreateDirectory(hosts);
        var setup = await ProcessRunner.RunAsync("dotnet", [dll, "node-setup", $"--hosts-dir={hosts}", $"--containerd-config={temp.Combine("config.toml")}"], TimeSpan.FromMinutes(1));
        Assert.True(setup.Succeeded, setup.Describe());
        var args = List(At(pod, "initContainers", "0"), "args").Cast<string>()
            .Select(a => a.StartsWith("--hosts-dir=", StringComparison.Ordinal) ? $"--hosts-dir={hosts}" : a).ToList();

        var restore = await ProcessRunner.RunAsync("dotnet", [dll, .. args], TimeSpan.FromMinutes(1));

        Assert.True(restore.Succeeded, restore.Describe());
        Assert.Empty(Directory.EnumerateFileSystemEntries(hosts));
    }

    private static async Task<string> RenderAsync(string kustomization)
    {
        var result = await ProcessRunner.RunOrThrowAsync("kubectl", ["kustomize", Path.Combine(Kubernetes, kustomization)], TimeSpan.FromMinutes(2));
        return result.StandardOutput;
    }

    private static Task<ProcessResult> ValidateAsync(string file)
    {
        Assert.True(Directory.Exists(Path.Combine(Validator, "node_modules", "kubernetes-models")),
            $"the schema validator is not installed: run ./test.sh, or npm ci --prefix {Validator}");
        return ProcessRunner.RunAsync("node", [Path.Combine(Validator, "validate.mjs"), file], TimeSpan.FromMinutes(2));
    }

    private static List<Dictionary<object, object>> Parse(string yaml) => YamlDocuments.ParseAll(yaml);

    private static Dictionary<object, object> Single(List<Dictionary<object, object>> objects, string kind) => objects.Single(o => (string)o["kind"] == kind);

    private static object At(object node, params string[] path)
    {
        foreach (var key in path)
        {
            node = node switch
            {
                Dictionary<object, object> map when map.TryGetValue(key, out var value) => value,
                List<object> list when int.TryParse(key, out var index) && index < list.Count => list[index],
                _ => throw new KeyNotFoundException($"no '{key}' in the path {string.Join('.', path)}"),
            };
        }

        return node;
    }

    private static List<object> List(object node, string key) => (List<object>)At(node, key);

    private static List<object> TryList(object node, string key) => node is Dictionary<object, object> map && map.TryGetValue(key, out var value) ? (List<object>)value : [];

    private static Dictionary<string, string> Env(object container) => TryList(container, "env").Cast<Dictionary<object, object>>()
        .Where(e => e.ContainsKey("value")).ToDictionary(e => (string)e["name"], e => (string)e["value"]);

    private static object EnvEntry(object container, string name) => TryList(container, "env").Single(e => (string)At(e, "name") == name);

    /// <summary>The host path of the volume <paramref name="container"/> mounts at <paramref name="mountPath"/>.</summary>
    private static string HostPathMountedAt(object pod, object container, string mountPath)
    {
        var mount = List(container, "volumeMounts").Single(m => (string)At(m, "mountPath") == mountPath);
        var volume = List(pod, "volumes").Single(v => (string)At(v, "name") == (string)At(mount, "name"));
        return (string)At(volume, "hostPath", "path");
    }
}

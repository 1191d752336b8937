using System.Globalization;
using P2PRegistry.Harness.Images;
using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Systems;

/// <summary>
/// The <c>image</c> workload on top of a system's servers: every client host runs its own containerd (own root,
/// state and socket, in the host's namespace; <c>unpigz</c> on its PATH decompresses the layers), and the client is
/// <c>ctr images pull</c> — fetch every blob, then unpack each layer into the overlayfs snapshotter, as kubelet's
/// pull does — with at most 3 layers downloading at once (the CRI plugin's <c>max_concurrent_downloads</c>
/// default). Image-ready time is the barrier's release to ctr's exit 0; a pull counts only when containerd holds
/// the image's top snapshot (its chain ID) afterwards. The inner system's servers hold the image: docker-registry
/// (<c>hosts.toml</c>: the registry as server) or the Origin with each host's Agent as the mirror
/// (<c>hosts.toml</c>: the Agent as <c>[host]</c>, falling back to the Origin as server).
/// Clients start in waves (<paramref name="waveSizes"/>): each wave when every client of the previous one is done.
/// </summary>
internal sealed class ContainerdImageSystem(ISystemUnderTest inner, BuiltImage image, IReadOnlyList<int> waveSizes) : ISystemUnderTest
{
    public const string Repository = "harness/image";
    public const string Tag = "v1";

    /// <summary>kubelet's pulls go through containerd's CRI plugin, whose <c>max_concurrent_downloads</c> default is 3.</summary>
    public const int ConcurrentDownloads = 3;

    private readonly List<(LabHost Host, string Socket, string HostsDirectory)> _nodes = [];
    private string _reference = "";

    public string Name => inner.Name;

    public string Description => inner switch
    {
        P2PRegistrySystem => "containerd per client host (ctr images pull + unpack, unpigz), its Agent as the mirror in hosts.toml, the Origin as server; Origin + Tracker on the seed host",
        RegistrySystem => "containerd per client host (ctr images pull + unpack, unpigz) straight from docker-registry on the seed host",
        _ => "containerd per client host pulling from " + inner.Description,
    };

    public string Reference => _reference;

    public async Task<Availability> CheckAvailableAsync(CancellationToken cancellationToken)
    {
        if (await Tools.MissingAsync(["containerd", "ctr", "unpigz"], cancellationToken).ConfigureAwait(false) is { } missing)
        {
            return Availability.No(missing);
        }

        return await inner.CheckAvailableAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task SetupAsync(SystemContext context, CancellationToken cancellationToken)
    {
        await inner.SetupAsync(context, cancellationToken).ConfigureAwait(false);
        var (server, mirror) = inner switch
        {
            RegistrySystem r => (r.BaseUrl, (Func<LabHost, string>?)null),
            P2PRegistrySystem p => (p.OriginUrl, p.AgentUrl),
            _ => throw new InvalidOperationException($"{inner.Name} has no image workload."),
        };
        await ImagePush.PushAsync(context.Seed, server, Repository, Tag, image, cancellationToken).ConfigureAwait(false);
        _reference = $"{new Uri(server).Authority}/{Repository}:{Tag}";
        context.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    pushed {_reference} ({image.Layers.Count} layers, {image.TotalBytes / 1048576.0:0.0} MiB, manifest {image.ManifestDigest}) to {server}"));

        _nodes.Clear();
        foreach (var host in context.Clients)
        {
            var directory = Directory.CreateDirectory(Path.Combine(context.WorkDirectory, "ctd-" + host.Name)).FullName;
            var config = Path.Combine(directory, "config.toml");
            var socket = Path.Combine(directory, "containerd.sock");
            File.WriteAllText(config, ConfigToml(directory, socket));
            var hosts = Path.Combine(directory, "hosts");
            WriteHostsToml(hosts, new Uri(server).Authority, server, mirror?.Invoke(host));
            context.Processes.Start("containerd-" + host.Name, host, ["containerd", "--config", config], Path.Combine(context.WorkDirectory, "containerd-" + host.Name + ".log"));
            _nodes.Add((host, socket, hosts));
        }

        foreach (var (host, socket, _) in _nodes)
        {
            await WaitForContainerdAsync(host, socket, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        }

        context.Log.WriteLine($"    {_nodes.Count} containerd daemons ready (one per client host)");
    }

    public async Task<IReadOnlyList<ClientResult>> FetchAtOnceAsync(SystemContext context, CancellationToken cancellationToken)
    {
        var results = new List<ClientResult>();
        var waves = WavePlan.Split(_nodes, waveSizes);
        for (var w = 0; w < waves.Count; w++)
        {
            var clients = waves[w].Select(node =>
            {
                var log = Path.Combine(context.WorkDirectory, node.Host.Name + ".log");
                List<string> command = ["ctr", "-a", node.Socket, "images", "pull", "--hosts-dir", node.HostsDirectory,
                    "--max-concurrent-downloads", ConcurrentDownloads.ToString(CultureInfo.InvariantCulture), _reference];
                return new ClientFleet.Client(node.Host, command, log, Path.Combine(context.WorkDirectory, node.Host.Name + ".done"));
            }).ToList();
            if (waves.Count > 1)
            {
                context.Log.WriteLine($"    wave {w + 1} of {waves.Count}: {string.Join(", ", clients.Select(c => c.Host.Name))}");
            }

            var outcome = await ClientFleet.RunAsync(context, clients, ClientFleet.Completion.Exits, cancellationToken, $"wave{w + 1}.fifo").ConfigureAwait(false);
            foreach (var result in outcome.Results)
            {
                var node = waves[w].First(n => n.Host.Name == result.Host);
                var unpacked = result.CompletionSeconds is not null && await IsUnpackedAsync(node.Host, node.Socket, cancellationToken).ConfigureAwait(false);
                results.Add(result with
                {
                    Wave = w,
                    Verified = unpacked,
                    Error = result.Error ?? (unpacked ? null : $"ctr exited 0 but containerd has no snapshot {image.ChainId} (the image is not unpacked)"),
                });
            }

            var times = outcome.Results.Where(r => r.CompletionSeconds is not null).Select(r => r.CompletionSeconds!.Value).ToList();
            context.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {(waves.Count > 1 ? $"wave {w + 1}" : "all")}: {times.Count}/{clients.Count} images ready, slowest {(times.Count > 0 ? times.Max() : double.NaN):0.00} s"));
        }

        return results;
    }

    /// <summary>containerd commits the top layer's snapshot under the image's chain ID once every layer is unpacked.</summary>
    private async Task<bool> IsUnpackedAsync(LabHost host, string socket, CancellationToken cancellationToken)
    {
        var info = await host.RunAsync("ctr", ["-a", socket, "snapshots", "info", image.ChainId], cancellationToken).ConfigureAwait(false);
        return info.ExitCode == 0 && info.StandardOutput.Contains("Committed", StringComparison.Ordinal);
    }

    public Task<ServerFigures> CollectAsync(SystemContext context, CancellationToken cancellationToken) => inner.CollectAsync(context, cancellationToken);

    public async Task TeardownAsync(SystemContext context)
    {
        // The inner teardown stops every process of the group, the containerd daemons included.
        await inner.TeardownAsync(context).ConfigureAwait(false);
        _nodes.Clear();

        // As the p2pregistry system does for its components: P2PH_KEEP_LOGS=<dir> keeps the clients' (ctr) and containerd logs.
        if (Environment.GetEnvironmentVariable("P2PH_KEEP_LOGS") is { Length: > 0 } keep && Directory.Exists(context.WorkDirectory))
        {
            var target = Directory.CreateDirectory(Path.Combine(keep, Path.GetFileName(context.WorkDirectory.TrimEnd('/')))).FullName;
            foreach (var log in Directory.EnumerateFiles(context.WorkDirectory, "*.log"))
            {
                File.Copy(log, Path.Combine(target, Path.GetFileName(log)), overwrite: true);
            }
        }
    }

    private static async Task WaitForContainerdAsync(LabHost host, string socket, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (File.Exists(socket))
            {
                var version = await host.RunAsync("ctr", ["-a", socket, "version"], cancellationToken, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                if (version.ExitCode == 0)
                {
                    return;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"containerd on {host.Name} did not answer on {socket} within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A private daemon: its own root, state and socket; no CRI (ctr drives it); snapshotters other than overlayfs off.</summary>
    public static string ConfigToml(string directory, string socket) => $"""
        version = 2
        root = "{Path.Combine(directory, "root")}"
        state = "{Path.Combine(directory, "state")}"
        disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

        [grpc]
          address = "{socket}"

        [plugins."io.containerd.internal.v1.opt"]
          path = "{Path.Combine(directory, "opt")}"
        """;

    /// <summary>
    /// <c>&lt;hosts&gt;/&lt;registry host:port&gt;/hosts.toml</c>: the registry as <c>server</c> and the mirror (else the registry
    /// itself) as the one <c>[host]</c> tried first for pulls and tag resolution (containerd falls back to the server per request).
    /// </summary>
    public static string WriteHostsToml(string hostsDirectory, string registryAuthority, string server, string? mirror)
    {
        var folder = Directory.CreateDirectory(Path.Combine(hostsDirectory, registryAuthority)).FullName;
        // containerd 1.6 refuses a hosts.toml without a [host] table ("invalid `host` tree") and then falls back to
        // https: without a mirror, the registry itself is the one [host].
        var toml = $"server = \"{server.TrimEnd('/')}\"\n\n[host.\"{(mirror ?? server).TrimEnd('/')}\"]\n  capabilities = [\"pull\", \"resolve\"]\n";

        var path = Path.Combine(folder, "hosts.toml");
        File.WriteAllText(path, toml);
        return path;
    }
}

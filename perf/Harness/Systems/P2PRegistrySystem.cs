using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Systems;

/// <summary>
/// P2PRegistry itself: the Origin and the Tracker on the seed host, an Agent on every client, each client pulling
/// the blob through its own Agent's registry API (GET /v2/&lt;repo&gt;/blobs/&lt;digest&gt; on 127.0.0.1) while the
/// Agents exchange pieces. It runs when the built components are found and answer the APIs it needs (the Origin
/// accepts a blob upload, the Agent serves the distribution API); otherwise it reports "not available" with the
/// probe's answer and never substitutes numbers.
/// </summary>
/// <param name="controlTls">TLS on the origin's and the tracker's listeners, the agents verifying them against the run's CA.</param>
/// <param name="peerTls">TLS on the peer ports of the origin and the agents (<c>Swarm:Tls</c>).</param>
/// <param name="agentApiTls">TLS on the agents' registry APIs too (node-local: what containerd, here curl, pulls from).</param>
/// <param name="locality">The tracker's <c>Tracker:Locality</c> and the agents' <c>Swarm:PreferLocalPeers</c> (ask peers of another
/// zone only for what no peer of their own zone serves); with zones, every Agent announces its zone (<c>Agent:Zone</c>) either way.</param>
/// <param name="coldAgents">No warm-up pull: the measured pull is each Agent's first request, once its /readyz answered.</param>
/// <param name="componentDirectory">The folder of Origin/, Tracker/ and Agent/ builds to run (e.g. published: ReadyToRun, or the
/// Native AOT agent, a native executable; see <see cref="PublishedComponent"/>);
/// null: the builds under src/ of this checkout.</param>
internal sealed class P2PRegistrySystem(bool controlTls = false, bool peerTls = false, bool agentApiTls = false, bool locality = true, bool coldAgents = false,
    string? componentDirectory = null) : ISystemUnderTest
{
    public const string Repository = "harness/blob";
    private const int OriginPort = 5000;
    private const int TrackerHttpPort = 7000;
    private const int TrackerGrpcPort = 7001;
    private const int OriginPeerPort = 6881;
    private const int AgentPort = 5050;
    private const int AgentPeerPort = 6882;

    private readonly List<(LabHost Host, string Url, ProcessGroup.Tracked Process)> _agents = [];
    private ProcessGroup.Tracked? _origin;
    private ProcessGroup.Tracked? _tracker;
    private string _trackerGrpcUrl = "";
    private HarnessCertificates? _certificates;

    private string Scheme => controlTls ? "https" : "http";

    public string Name => "p2pregistry";

    /// <summary>The Origin's base URL on the seed host, once <see cref="StartSeedSideAsync"/> ran.</summary>
    public string OriginUrl { get; private set; } = "";

    /// <summary>The Tracker's HTTP base URL on the seed host, once <see cref="StartSeedSideAsync"/> ran.</summary>
    public string TrackerUrl { get; private set; } = "";

    /// <summary>The registry API of the Agent on <paramref name="host"/> (on that host's 127.0.0.1), once <see cref="SetupAsync"/> ran.</summary>
    public string AgentUrl(LabHost host) => _agents.First(a => a.Host == host).Url;

    public string Description => "Origin + Tracker on the seed host; an Agent per client ("
        + (coldAgents ? "cold: started, ready on /readyz, and the measured pull is its first request" : "warmed by one small pull, as a running DaemonSet agent is")
        + "); each client pulls through its Agent's /v2/ API"
        + (controlTls ? "; TLS between agents and origin/tracker" : "") + (peerTls ? "; TLS on the peer ports" : "")
        + (agentApiTls ? "; TLS on the agents' registry APIs" : "") + (locality ? "" : "; Tracker:Locality=false, Swarm:PreferLocalPeers=false")
        + (componentDirectory is null ? "" : $"; components from {componentDirectory}");

    /// <summary>Size of the warm-up blob every Agent pulls before the barrier.</summary>
    public const int WarmUpBytes = 4 * 1024 * 1024;

    public async Task<Availability> CheckAvailableAsync(CancellationToken cancellationToken)
    {
        var root = FindRepositoryRoot();
        if (root is null)
        {
            return Availability.No("the harness is not running from a P2PRegistry checkout, so the components cannot be found");
        }

        var missing = new List<string>();
        var dlls = new Dictionary<string, string>();
        foreach (var (folder, assembly) in new[] { ("Origin", "P2PRegistry.Origin"), ("Tracker", "P2PRegistry.Tracker"), ("Agent", "P2PRegistry.Agent") })
        {
            if (Component(folder, assembly) is { } dll)
            {
                dlls[folder] = dll;
            }
            else
            {
                missing.Add($"src/{folder} is not built");
            }
        }

        if (!Directory.Exists(Path.Combine(root, "src", "Swarm")))
        {
            missing.Add("the swarm engine (src/Swarm) does not exist yet");
        }

        if (dlls.TryGetValue("Agent", out var agent))
        {
            var status = await ProbeAsync(agent, "GET", "/v2/", cancellationToken).ConfigureAwait(false);
            if (status != HttpStatusCode.OK)
            {
                missing.Add($"the Agent does not serve the registry API yet (GET /v2/ answered {Describe(status)})");
            }
        }

        if (dlls.TryGetValue("Origin", out var origin))
        {
            var status = await ProbeAsync(origin, "POST", "/v2/harness/blob/blobs/uploads/", cancellationToken).ConfigureAwait(false);
            if (status != HttpStatusCode.Accepted)
            {
                missing.Add($"the Origin does not accept blob uploads yet (POST /v2/<repo>/blobs/uploads/ answered {Describe(status)})");
            }
        }

        return missing.Count == 0 ? Availability.Yes : Availability.No(string.Join("; ", missing));
    }

    private static string Describe(HttpStatusCode? status) => status is { } s ? $"{(int)s}" : "nothing: it did not start";

    /// <summary>Starts the built component on a free 127.0.0.1 port, sends one request, stops it by PID.</summary>
    private static async Task<HttpStatusCode?> ProbeAsync(string component, string method, string path, CancellationToken cancellationToken)
    {
        int port;
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        }

        var launch = Launch(component);
        var psi = new ProcessStartInfo(launch[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in launch.Skip(1).Concat(["--urls", $"http://127.0.0.1:{port}", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:P2PRegistry=" + LogLevel]))
        {
            psi.ArgumentList.Add(arg);
        }

        var storage = Directory.CreateTempSubdirectory("p2ph-probe-");
        psi.Environment["Origin__StoragePath"] = Path.Combine(storage.FullName, "origin");
        psi.Environment["Origin__Peer__Port"] = "0";
        // As the run's Origin: the probe's upload is anonymous.
        psi.Environment["Origin__Push__AllowAnonymous"] = "true";
        psi.Environment["Agent__DataPath"] = Path.Combine(storage.FullName, "agent");
        psi.Environment["Agent__PeerPort"] = "0";
        // The Agent binds its mirror from Agent:RegistryUrl, not --urls.
        psi.Environment["Agent__RegistryUrl"] = $"http://127.0.0.1:{port}";
        using var process = Process.Start(psi)!;
        _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    using var request = new HttpRequestMessage(new HttpMethod(method), $"http://127.0.0.1:{port}{path}");
                    using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                    return response.StatusCode;
                }
                catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    // Not up yet, or (on a loaded machine) slower than the client's 2 s timeout: ask again until the deadline.
                    await Task.Delay(200, cancellationToken).ConfigureAwait(false);
                }
            }

            return null;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }

            storage.Delete(recursive: true);
        }
    }

    private static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "P2PRegistry.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    // The component this run uses: from --bin when given, else the checkout's build.
    private string? Component(string folder, string assembly) =>
        componentDirectory is null ? FindComponent(folder, assembly) : PublishedComponent(componentDirectory, folder, assembly);

    /// <summary>
    /// A component under a --bin folder: <c>DIR/&lt;Folder&gt;/</c> or <c>DIR/&lt;folder&gt;/</c> (deploy/docker/publish.sh's
    /// layout), its entry assembly (<c>&lt;assembly&gt;.dll</c>, run with <c>dotnet</c>), else its native executable
    /// (<c>&lt;assembly&gt;</c> alone: a Native AOT publish has no .dll). Null when neither exists.
    /// </summary>
    public static string? PublishedComponent(string directory, string folder, string assembly) =>
        new[] { folder, folder.ToLowerInvariant() }
            .Distinct()
            .SelectMany(f => new[] { Path.Combine(directory, f, assembly + ".dll"), Path.Combine(directory, f, assembly) })
            .FirstOrDefault(File.Exists);

    /// <summary>The command line that runs a component: <c>dotnet &lt;path&gt;</c> for an assembly, the path itself for an executable.</summary>
    public static string[] Launch(string path) =>
        path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? ["dotnet", path] : [path];

    /// <summary>
    /// The built entry assembly of a component under src/, preferring the configuration the harness itself was
    /// built in (bin/&lt;Configuration&gt;/net10.0), else the other one.
    /// </summary>
    public static string? FindComponent(string folder, string assembly)
    {
        var root = FindRepositoryRoot();
        if (root is null)
        {
            return null;
        }

        var own = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Parent?.Name;
        return new[] { own, "Release", "Debug" }
            .Where(c => c is "Release" or "Debug")
            .Distinct()
            .Select(c => Path.Combine(root, "src", folder, "bin", c!, "net10.0", assembly + ".dll"))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// The part of P2PRegistry that exists: the Origin on the seed host with the blob pushed to it, and the
    /// Tracker, configured with that Origin, serving the blob's .torrent (so the Origin computed its metainfo and
    /// the Tracker fetched it). Returns the .torrent's bytes.
    /// </summary>
    public async Task<byte[]> StartSeedSideAsync(SystemContext context, CancellationToken cancellationToken)
    {
        var seed = context.Seed;
        var origin = Component("Origin", "P2PRegistry.Origin") ?? throw new InvalidOperationException("src/Origin is not built.");
        var tracker = Component("Tracker", "P2PRegistry.Tracker") ?? throw new InvalidOperationException("src/Tracker is not built.");
        var work = context.WorkDirectory;
        if (controlTls || peerTls || agentApiTls)
        {
            _certificates = HarnessCertificates.Write(Path.Combine(work, "tls"), context.Clients.Select(c => c.Address).Append(seed.Address));
            // Every curl the harness runs (pushes, probes, the clients' pulls) verifies against the run's CA; curl reads
            // CURL_CA_BUNDLE from its environment, which the processes started in the namespaces inherit.
            Environment.SetEnvironmentVariable("CURL_CA_BUNDLE", _certificates.CaPath);
        }

        OriginUrl = $"{Scheme}://{seed.Address}:{context.Testbed.Port(seed, OriginPort)}";
        // The Origin's BitTorrent seeder binds and advertises the seed host's address: agents in other namespaces dial it.
        // The testbed's network is the harness's own, so the blob is pushed anonymously (Origin:Push:AllowAnonymous).
        _origin = context.Processes.Start("origin", seed,
            [.. Launch(origin), "--urls", OriginUrl, "--Origin:StoragePath=" + Path.Combine(work, "origin"), "--Origin:Push:AllowAnonymous=true",
                "--Origin:Peer:Address=" + seed.Address,
                "--Origin:Peer:Port=" + context.Testbed.Port(seed, OriginPeerPort).ToString(CultureInfo.InvariantCulture),
                "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:P2PRegistry=" + LogLevel, .. TlsArguments("Origin")],
            Path.Combine(work, "origin.log"));
        await ServerProbe.WaitForHttpAsync(seed, OriginUrl + "/v2/", TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        await BlobPush.PushAsync(seed, OriginUrl, Repository, context.Blob, cancellationToken).ConfigureAwait(false);

        TrackerUrl = $"{Scheme}://{seed.Address}:{context.Testbed.Port(seed, TrackerHttpPort)}";
        _trackerGrpcUrl = $"{Scheme}://{seed.Address}:{context.Testbed.Port(seed, TrackerGrpcPort)}";
        // With zones the tracker knows where the origin sits (the seed host's zone).
        List<string> originZone = context.Testbed.ZoneOf(seed) is { } zone ? ["--Tracker:OriginZone=" + zone] : [];
        _tracker = context.Processes.Start("tracker", seed,
            [.. Launch(tracker), .. originZone, "--Tracker:HttpUrl=" + TrackerUrl, "--Tracker:GrpcUrl=" + _trackerGrpcUrl, "--Tracker:OriginUrl=" + OriginUrl,
                "--Tracker:Locality=" + (locality ? "true" : "false"), "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:P2PRegistry=" + LogLevel, .. TlsArguments("Tracker")],
            Path.Combine(work, "tracker.log"));
        await ServerProbe.WaitForHttpAsync(seed, TrackerUrl + "/healthz", TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);

        // To a file: a .torrent is binary.
        var torrent = Path.Combine(work, "blob.torrent");
        var got = await seed.RunAsync("curl", ["-fsS", "-o", torrent, $"{TrackerUrl}/p2p/v1/torrent/{context.Blob.Digest}"], cancellationToken).ConfigureAwait(false);
        if (got.ExitCode != 0)
        {
            throw new InvalidOperationException($"The Tracker did not serve the blob's .torrent: {got.StandardError.Trim()}");
        }

        context.Log.WriteLine($"    Origin holds {context.Blob.Digest}; Tracker serves its .torrent");
        return File.ReadAllBytes(torrent);
    }

    /// <summary>
    /// The seed side (<see cref="StartSeedSideAsync"/>) plus one Agent per client: its registry API on 127.0.0.1
    /// of the client's namespace (loopback is per namespace), its peer port on the client's address, the Tracker's
    /// gRPC endpoint and the Origin on the seed host. Ready when every Agent answers /readyz.
    /// </summary>
    public async Task SetupAsync(SystemContext context, CancellationToken cancellationToken)
    {
        await StartSeedSideAsync(context, cancellationToken).ConfigureAwait(false);
        var agent = Component("Agent", "P2PRegistry.Agent") ?? throw new InvalidOperationException("src/Agent is not built.");
        _agents.Clear();
        foreach (var host in context.Clients)
        {
            var url = $"{(agentApiTls ? "https" : "http")}://127.0.0.1:{context.Testbed.Port(host, AgentPort)}";
            List<string> command = [.. Launch(agent),
                "--Agent:RegistryUrl=" + url,
                "--Agent:PeerAddress=" + host.Address,
                "--Agent:PeerPort=" + context.Testbed.Port(host, AgentPeerPort).ToString(CultureInfo.InvariantCulture),
                "--Agent:TrackerUrl=" + _trackerGrpcUrl,
                "--Agent:OriginUrl=" + OriginUrl,
                "--Agent:DataPath=" + Path.Combine(context.WorkDirectory, "agent-" + host.Name),
                "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:P2PRegistry=" + LogLevel, .. TlsArguments("Agent")];
            if (context.Testbed.ZoneOf(host) is { } zone)
            {
                command.Add("--Agent:Zone=" + zone);
                command.Add("--Swarm:PreferLocalPeers=" + (locality ? "true" : "false"));
            }

            if (context.Testbed.ProgramRateLimit is { } limit)
            {
                var text = limit.ToString(CultureInfo.InvariantCulture);
                command.AddRange(["--Agent:IngressBytesPerSecond=" + text, "--Agent:EgressBytesPerSecond=" + text]);
            }

            var process = context.Processes.Start("agent-" + host.Name, host, command, Path.Combine(context.WorkDirectory, "agent-" + host.Name + ".log"));
            _agents.Add((host, url, process));
        }

        foreach (var (host, url, _) in _agents)
        {
            await ServerProbe.WaitForHttpAsync(host, url + "/readyz", TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        }

        context.Log.WriteLine($"    {_agents.Count} Agents ready (peer port {AgentPeerPort} on each client's address)");
        if (coldAgents)
        {
            context.Log.WriteLine("    Cold agents: no warm-up pull, the measured pull is each Agent's first request");
            return;
        }

        await WarmUpAsync(context, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Every Agent pulls a small blob of its own kind (different bytes) through the whole path before the barrier:
    /// an Agent runs as a DaemonSet and has served pulls before a rollout, so the measured pull should not include
    /// its first-request costs (JIT of the mirror, swarm and gRPC code, the tracker channel's connection). The
    /// warm-up is outside the measured window and its bytes outside the origin egress count.
    /// </summary>
    private async Task WarmUpAsync(SystemContext context, CancellationToken cancellationToken)
    {
        var path = Path.Combine(context.WorkDirectory, "warmup.bin");
        var bytes = new byte[WarmUpBytes];
        Random.Shared.NextBytes(bytes);
        await File.WriteAllBytesAsync(path, bytes, cancellationToken).ConfigureAwait(false);
        var blob = new Blob(path, bytes.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        await BlobPush.PushAsync(context.Seed, OriginUrl!, Repository, blob, cancellationToken).ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
        // One attempt each: a ready Agent serves its first pull (a failure is an error of the system, not noise to retry).
        var pulls = _agents.Select(async a =>
        {
            var got = await a.Host.RunAsync("curl", ["-fsS", "-o", "/dev/null", $"{a.Url}/v2/{Repository}/blobs/{blob.Digest}"], cancellationToken, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            return got.ExitCode == 0 ? null : $"{a.Host.Name}: {got.StandardError.Trim()}";
        }).ToList();
        var failures = (await Task.WhenAll(pulls).ConfigureAwait(false)).OfType<string>().ToList();
        if (failures.Count > 0)
        {
            throw new InvalidOperationException($"{failures.Count} of {_agents.Count} Agents failed the warm-up pull: {string.Join("; ", failures)}");
        }

        context.Log.WriteLine($"    Agents warmed: each pulled a {WarmUpBytes / 1048576} MiB blob in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s, at the first attempt");
    }

    /// <summary>Every client pulls the blob through its own Agent, as containerd with the Agent as mirror would.</summary>
    public async Task<IReadOnlyList<ClientResult>> FetchAtOnceAsync(SystemContext context, CancellationToken cancellationToken)
    {
        var clients = _agents.Select(a =>
        {
            var output = Path.Combine(context.WorkDirectory, a.Host.Name + ".blob");
            List<string> command = ["curl", "-fsS", "-o", output, $"{a.Url}/v2/{Repository}/blobs/{context.Blob.Digest}"];
            return new ClientFleet.Client(a.Host, command, output, Path.Combine(context.WorkDirectory, a.Host.Name + ".done"));
        }).ToList();
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampling = SampleDeliveryAsync(context, clients.Select(c => (c.Host.Name, c.OutputPath)).ToList(), context.Blob.Length, stopSampling.Token);
        var outcome = await ClientFleet.RunAsync(context, clients, ClientFleet.Completion.Exits, cancellationToken).ConfigureAwait(false);
        await stopSampling.CancelAsync().ConfigureAwait(false);
        await sampling.ConfigureAwait(false);
        return outcome.Results;
    }

    /// <summary>
    /// Diagnosis: when each client had half, 90 % and all of the blob (its output file's size, sampled every 100 ms),
    /// as wall-clock times comparable with the barrier's release and the Agents' log lines. A client that gets its
    /// bytes long after its Agent logged <c>Downloaded</c> was held up by the Agent's streaming, not by the swarm.
    /// </summary>
    private static async Task SampleDeliveryAsync(SystemContext context, List<(string Host, string Path)> outputs, long length, CancellationToken cancellationToken)
    {
        var marks = outputs.Select(_ => new DateTimeOffset?[3]).ToList();
        double[] fractions = [0.5, 0.9, 1.0];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var now = DateTimeOffset.UtcNow;
                for (var i = 0; i < outputs.Count; i++)
                {
                    var size = File.Exists(outputs[i].Path) ? new FileInfo(outputs[i].Path).Length : 0;
                    for (var f = 0; f < fractions.Length; f++)
                    {
                        if (marks[i][f] is null && size >= (long)(fractions[f] * length))
                        {
                            marks[i][f] = now;
                        }
                    }
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }

        for (var i = 0; i < outputs.Count; i++)
        {
            var text = string.Join(", ", fractions.Select((f, k) => $"{f:P0} at {marks[i][k]:HH:mm:ss.f}"));
            context.Log.WriteLine($"    {outputs[i].Host}: client had {text} UTC");
        }
    }

    /// <summary>
    /// Origin + Tracker CPU; as "uploaded", the sum of the Agents' bytes_from_origins (their engines' count of
    /// payload that came from the Origin's seeder). Each Agent's peer/origin split goes to the log.
    /// </summary>
    public async Task<ServerFigures> CollectAsync(SystemContext context, CancellationToken cancellationToken)
    {
        double? cpu = (_origin is null ? 0 : ProcessCpu.ReadSeconds(_origin.Pid) ?? 0) + (_tracker is null ? 0 : ProcessCpu.ReadSeconds(_tracker.Pid) ?? 0);
        long? fromOrigins = null;
        foreach (var (host, url, process) in _agents)
        {
            var metrics = await host.RunAsync("curl", ["-s", "--max-time", "5", url + "/metrics"], cancellationToken).ConfigureAwait(false);
            var peers = MetricSum(metrics.StandardOutput, "p2pregistry_agent_bytes_from_peers");
            var origins = MetricSum(metrics.StandardOutput, "p2pregistry_agent_bytes_from_origins");
            if (origins is { } o)
            {
                fromOrigins = (fromOrigins ?? 0) + o;
            }

            var fastMisses = MetricSum(metrics.StandardOutput, "p2pregistry_agent_fast_misses");
            context.Log.WriteLine($"    {host.Name}: from peers {Mib(peers)}, from origin {Mib(origins)}, fast misses {fastMisses ?? 0}, agent CPU {ProcessCpu.ReadSeconds(process.Pid):0.0} s");
        }

        return new ServerFigures(cpu, fromOrigins);
    }

    /// <summary>The component's TLS settings (<c>control</c>), and the peer port's (<c>peer</c>; the tracker has none).</summary>
    private List<string> TlsArguments(string component)
    {
        List<string> arguments = [];
        if (_certificates is null)
        {
            return arguments;
        }

        if (controlTls || (agentApiTls && component == "Agent"))
        {
            arguments.AddRange(_certificates.Arguments(component));
        }

        if (peerTls && component != "Tracker")
        {
            arguments.AddRange(_certificates.Arguments("Swarm"));
        }

        return arguments;
    }

    private static string Mib(long? bytes) => bytes is { } b ? $"{b / 1048576.0:0.0} MiB" : "n/a";

    /// <summary>Sum of the Prometheus samples whose name starts with <paramref name="prefix"/> (labels summed over).</summary>
    public static long? MetricSum(string exposition, string prefix)
    {
        long? sum = null;
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var value = line[(line.LastIndexOf(' ') + 1)..].Trim();
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                sum = (sum ?? 0) + (long)v;
            }
        }

        return sum;
    }

    /// <summary>
    /// The log level of the components' own categories (<c>P2PRegistry.*</c>): Warning, or <c>P2PH_LOG_LEVEL</c> (e.g. Debug)
    /// when diagnosing a run; the framework's categories stay at Warning, so a Debug run logs the swarm, not every request.
    /// </summary>
    private static string LogLevel => Environment.GetEnvironmentVariable("P2PH_LOG_LEVEL") is { Length: > 0 } level ? level : "Warning";

    public async Task TeardownAsync(SystemContext context)
    {
        await context.Processes.StopAllAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);

        // The run folder is deleted at cleanup; P2PH_KEEP_LOGS=<dir> keeps the components' and clients' logs.
        if (Environment.GetEnvironmentVariable("P2PH_KEEP_LOGS") is { Length: > 0 } keep && Directory.Exists(context.WorkDirectory))
        {
            var target = Path.Combine(keep, Path.GetFileName(context.WorkDirectory.TrimEnd('/')));
            Directory.CreateDirectory(target);
            foreach (var log in Directory.EnumerateFiles(context.WorkDirectory, "*.log"))
            {
                File.Copy(log, Path.Combine(target, Path.GetFileName(log)), overwrite: true);
            }
        }

        _agents.Clear();
        _origin = null;
        _tracker = null;
    }
}

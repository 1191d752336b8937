using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Systems;

/// <summary>
/// P2PRegistry itself: the Origin and the Tracker on the seed host, an Agent on every client, each client pulling
/// the blob through its own Agent's registry API (GET /v2/&lt;repo&gt;/blobs/&lt;digest&gt; on 127.0.0.1) while the
/// Agents exchange pieces. It runs only when the built components answer the APIs it needs: the Origin accepts a
/// blob upload and the Agent serves the distribution API. Until the Agent and the swarm engine exist this system
/// reports "not available" with the probe's answer; it never substitutes numbers. The seed side (Origin holding
/// the blob, Tracker serving its .torrent from the Origin's metainfo) is real and tested on its own
/// (<see cref="StartSeedSideAsync"/>), so that only the Agents remain to be wired.
/// </summary>
internal sealed class P2PRegistrySystem : ISystemUnderTest
{
    public const string Repository = "harness/blob";
    private const int OriginPort = 5000;
    private const int TrackerHttpPort = 7000;
    private const int TrackerGrpcPort = 7001;

    public string Name => "p2pregistry";

    /// <summary>The Origin's base URL on the seed host, once <see cref="StartSeedSideAsync"/> ran.</summary>
    public string OriginUrl { get; private set; } = "";

    /// <summary>The Tracker's HTTP base URL on the seed host, once <see cref="StartSeedSideAsync"/> ran.</summary>
    public string TrackerUrl { get; private set; } = "";

    public string Description => "Origin + Tracker on the seed host; an Agent per client; each client pulls through its Agent's /v2/ API";

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
            if (FindComponent(folder, assembly) is { } dll)
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

        return missing.Count == 0
            ? Availability.No("the components answer, but this harness does not yet know the Agent's configuration keys (origin, tracker, peer port); wire them in P2PRegistrySystem.SetupAsync")
            : Availability.No(string.Join("; ", missing));
    }

    private static string Describe(HttpStatusCode? status) => status is { } s ? $"{(int)s}" : "nothing: it did not start";

    /// <summary>Starts the built component on a free 127.0.0.1 port, sends one request, stops it by PID.</summary>
    private static async Task<HttpStatusCode?> ProbeAsync(string dll, string method, string path, CancellationToken cancellationToken)
    {
        int port;
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        }

        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { dll, "--urls", $"http://127.0.0.1:{port}", "--Logging:LogLevel:Default=Warning" })
        {
            psi.ArgumentList.Add(arg);
        }

        var storage = Directory.CreateTempSubdirectory("p2ph-probe-");
        psi.Environment["Origin__StoragePath"] = Path.Combine(storage.FullName, "origin");
        psi.Environment["Agent__CachePath"] = Path.Combine(storage.FullName, "agent");
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
                catch (HttpRequestException)
                {
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
        var origin = FindComponent("Origin", "P2PRegistry.Origin") ?? throw new InvalidOperationException("src/Origin is not built.");
        var tracker = FindComponent("Tracker", "P2PRegistry.Tracker") ?? throw new InvalidOperationException("src/Tracker is not built.");
        var work = context.WorkDirectory;

        OriginUrl = $"http://{seed.Address}:{context.Testbed.Port(seed, OriginPort)}";
        context.Processes.Start("origin", seed,
            ["dotnet", origin, "--urls", OriginUrl, "--Origin:StoragePath=" + Path.Combine(work, "origin"), "--Logging:LogLevel:Default=Warning"],
            Path.Combine(work, "origin.log"));
        await ServerProbe.WaitForHttpAsync(seed, OriginUrl + "/v2/", TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        await BlobPush.PushAsync(seed, OriginUrl, Repository, context.Blob, cancellationToken).ConfigureAwait(false);

        TrackerUrl = $"http://{seed.Address}:{context.Testbed.Port(seed, TrackerHttpPort)}";
        var grpc = $"http://{seed.Address}:{context.Testbed.Port(seed, TrackerGrpcPort)}";
        context.Processes.Start("tracker", seed,
            ["dotnet", tracker, "--Tracker:HttpUrl=" + TrackerUrl, "--Tracker:GrpcUrl=" + grpc, "--Tracker:OriginUrl=" + OriginUrl, "--Logging:LogLevel:Default=Warning"],
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

    // The runner calls the three below only after CheckAvailableAsync said yes, which it cannot until the Agent
    // serves the registry API. Then: SetupAsync = StartSeedSideAsync + an Agent per client (its options: origin,
    // tracker, peer port, cache path), FetchAtOnceAsync = ClientFleet with curl against each client's Agent at
    // 127.0.0.1, CollectAsync = Origin CPU + the Origin's bytes_sent metric.
    public Task SetupAsync(SystemContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("p2pregistry is not available: " + nameof(CheckAvailableAsync) + " explains why.");

    public Task<IReadOnlyList<ClientResult>> FetchAtOnceAsync(SystemContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("p2pregistry is not available.");

    public Task<ServerFigures> CollectAsync(SystemContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("p2pregistry is not available.");

    public Task TeardownAsync(SystemContext context) => context.Processes.StopAllAsync(TimeSpan.FromSeconds(3));
}

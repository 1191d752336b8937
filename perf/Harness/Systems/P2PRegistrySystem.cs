using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Harness.Systems;

/// <summary>
/// P2PRegistry itself: the Origin and the Tracker on the seed host, an Agent on every client, each client pulling
/// the blob through its own Agent's registry API (GET /v2/&lt;repo&gt;/blobs/&lt;digest&gt; on 127.0.0.1) while the
/// Agents exchange pieces. It runs only when the built components answer the APIs it needs: the Origin accepts a
/// blob upload and the Agent serves the distribution API. Until the Agent and the swarm engine exist this system
/// reports "not available" with the probe's answer; it never substitutes numbers.
/// </summary>
internal sealed class P2PRegistrySystem : ISystemUnderTest
{
    public string Name => "p2pregistry";

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
            var dll = new[] { "Release", "Debug" }
                .Select(c => Path.Combine(root, "src", folder, "bin", c, "net10.0", assembly + ".dll"))
                .FirstOrDefault(File.Exists);
            if (dll is null)
            {
                missing.Add($"src/{folder} is not built");
            }
            else
            {
                dlls[folder] = dll;
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

    // The runner calls these only after CheckAvailableAsync said yes, which it cannot yet.
    public Task SetupAsync(SystemContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("p2pregistry is not available: " + nameof(CheckAvailableAsync) + " explains why.");

    public Task<IReadOnlyList<ClientResult>> FetchAtOnceAsync(SystemContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("p2pregistry is not available.");

    public Task<ServerFigures> CollectAsync(SystemContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("p2pregistry is not available.");

    public Task TeardownAsync(SystemContext context) => context.Processes.StopAllAsync(TimeSpan.FromSeconds(3));
}

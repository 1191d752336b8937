using System.Globalization;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// Our Agent as a real process: <c>dotnet P2PRegistry.Agent.dll --Agent:RegistryUrl=… --Agent:TrackerUrl=…</c> (or a
/// published executable: <see cref="StartExecutableAsync"/>) on free loopback ports, ready when <c>/readyz</c> answers. Stopped by PID on dispose; its data folder is deleted.
/// </summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    private readonly TempDirectory? _ownedData;

    private AgentProcess(ManagedProcess process, int port, string dataPath, TempDirectory? ownedData)
    {
        Process = process;
        Port = port;
        DataPath = dataPath;
        _ownedData = ownedData;
    }

    /// <summary>Holds <c>cache/</c>, <c>download/</c>, <c>metainfo/</c>, <c>manifests/</c>.</summary>
    public string DataPath { get; }

    public ManagedProcess Process { get; }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public static Task<AgentProcess> StartAsync(string name, Uri trackerGrpc, Uri origin, Action<string>? onOutputLine = null, params string[] extra) =>
        StartAsync(name, trackerGrpc, origin, dataPath: null, onOutputLine, extra);

    /// <summary>Starts an agent on a data folder the caller owns (kept when the agent stops: a restart finds it again).</summary>
    public static Task<AgentProcess> StartAsync(string name, Uri trackerGrpc, Uri origin, string? dataPath, Action<string>? onOutputLine = null, params string[] extra) =>
        StartAsync(name, trackerGrpc, origin, dataPath, FreePort.Next(), onOutputLine, extra);

    /// <summary>Starts an agent on a given registry port (a restarted agent takes its predecessor's port, as on a node).</summary>
    public static Task<AgentProcess> StartAsync(string name, Uri trackerGrpc, Uri origin, string? dataPath, int port, Action<string>? onOutputLine = null, params string[] extra) =>
        StartAsync(name, trackerGrpc, origin, dataPath, port, awaitReady: true, onOutputLine, extra);

    /// <summary>Starts an agent and returns once it is live (<c>/healthz</c>), ready or not (its tracker may be down).</summary>
    public static Task<AgentProcess> StartLiveAsync(string name, Uri trackerGrpc, Uri origin, Action<string>? onOutputLine = null, params string[] extra) =>
        StartAsync(name, trackerGrpc, origin, dataPath: null, FreePort.Next(), awaitReady: false, onOutputLine, extra);

    /// <summary>
    /// Starts the agent program at <paramref name="executable"/> (a published one, e.g. the Native AOT executable of
    /// <c>deploy/docker/publish.sh</c>) instead of the build's assembly; ready on <c>/readyz</c>.
    /// </summary>
    public static Task<AgentProcess> StartExecutableAsync(string executable, string name, Uri trackerGrpc, Uri origin, Action<string>? onOutputLine = null, params string[] extra) =>
        StartAsync(name, trackerGrpc, origin, dataPath: null, FreePort.Next(), awaitReady: true, onOutputLine, extra, executable);

    private static async Task<AgentProcess> StartAsync(string name, Uri trackerGrpc, Uri origin, string? dataPath, int port, bool awaitReady, Action<string>? onOutputLine, string[] extra,
        string? executable = null)
    {
        var owned = dataPath is null ? new TempDirectory("agent-" + name) : null;
        var data = dataPath ?? owned!.Path;
        var options = new ManagedProcessOptions(executable ?? "dotnet",
        [
            .. executable is null ? [RepositoryPaths.ProjectDll("Agent", "P2PRegistry.Agent")] : Array.Empty<string>(),
            $"--Agent:RegistryUrl=http://127.0.0.1:{port}",
            "--Agent:PeerPort=0",
            $"--Agent:TrackerUrl={trackerGrpc.GetLeftPart(UriPartial.Authority)}",
            $"--Agent:OriginUrl={origin.GetLeftPart(UriPartial.Authority)}",
            $"--Agent:DataPath={data}",
            "--Swarm:DownloadAnnounceInterval=00:00:01",
            .. extra,
        ])
        {
            Name = name,
            OnOutputLine = onOutputLine,
            Readiness = Readiness.HttpOk(new Uri($"http://127.0.0.1:{port}/{(awaitReady ? "readyz" : "healthz")}")),
        };
        options.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        try
        {
            return new AgentProcess(await ManagedProcess.StartAsync(options).ConfigureAwait(false), port, data, owned);
        }
        catch
        {
            owned?.Dispose();
            throw;
        }
    }

    /// <summary>The value of a counter on <c>/metrics</c> (0 when it has not been reported yet).</summary>
    public Task<long> MetricAsync(string name) => MetricAsync(BaseAddress, name);

    /// <summary>The value of a counter on <c>/metrics</c> of any agent at <paramref name="baseAddress"/> (one in a container too).</summary>
    public static async Task<long> MetricAsync(Uri baseAddress, string name)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(new Uri(baseAddress, "/metrics")).ConfigureAwait(false);
        var total = 0L;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && (line.Length == name.Length || line[name.Length] is ' ' or '{'))
            {
                total += (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Process.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _ownedData?.Dispose();
        }
    }
}

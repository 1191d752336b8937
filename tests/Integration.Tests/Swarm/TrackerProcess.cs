using System.Net;

namespace P2PRegistry.Integration.Tests.Swarm;

/// <summary>
/// Our Tracker as a real process: <c>dotnet P2PRegistry.Tracker.dll --Tracker:GrpcUrl=… --Tracker:HttpUrl=… --Tracker:OriginUrl=…</c>
/// on two free loopback ports, ready when <c>/healthz</c> answers. Stopped by PID on dispose.
/// </summary>
internal sealed class TrackerProcess : IAsyncDisposable
{
    private readonly ManagedProcessOptions _options;

    private TrackerProcess(ManagedProcess process, ManagedProcessOptions options, int grpcPort, int httpPort)
    {
        Process = process;
        _options = options;
        GrpcUrl = new Uri($"http://127.0.0.1:{grpcPort}");
        HttpUrl = new Uri($"http://127.0.0.1:{httpPort}");
    }

    public ManagedProcess Process { get; private set; }

    public Uri GrpcUrl { get; }

    public Uri HttpUrl { get; }

    public Uri TorrentUrl(string digest) => new(HttpUrl, "/p2p/v1/torrent/" + digest);

    public static Task<TrackerProcess> StartAsync(Uri originUrl, Action<string>? onOutputLine = null, params string[] extraArgs) =>
        StartAsync(originUrl, FreePort.Next(), onOutputLine, extraArgs);

    /// <summary>Starts a tracker whose gRPC port is given (agents started before it already point there).</summary>
    public static async Task<TrackerProcess> StartAsync(Uri originUrl, int grpcPort, Action<string>? onOutputLine = null, params string[] extraArgs)
    {
        var httpPort = FreePort.Next();
        var dll = RepositoryPaths.ProjectDll("Tracker", "P2PRegistry.Tracker");
        var options = new ManagedProcessOptions("dotnet",
        [
            dll,
            $"--Tracker:GrpcUrl=http://127.0.0.1:{grpcPort}",
            $"--Tracker:HttpUrl=http://127.0.0.1:{httpPort}",
            $"--Tracker:OriginUrl={originUrl.GetLeftPart(UriPartial.Authority)}",
            // Downloading peers re-announce every second, so a new peer is found quickly.
            "--Tracker:DownloadingInterval=00:00:01",
            .. extraArgs,
        ])
        {
            Name = "tracker",
            OnOutputLine = onOutputLine,
            Readiness = Readiness.HttpOk(new Uri($"http://127.0.0.1:{httpPort}/healthz")),
        };
        options.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = await ManagedProcess.StartAsync(options).ConfigureAwait(false);
        return new TrackerProcess(process, options, grpcPort, httpPort);
    }

    /// <summary>Stops the current process if it still runs (a killed one has), then starts a new one on the same ports: empty, as after a crash.</summary>
    public async Task RestartAsync()
    {
        await Process.DisposeAsync().ConfigureAwait(false);
        Process = await ManagedProcess.StartAsync(_options).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}

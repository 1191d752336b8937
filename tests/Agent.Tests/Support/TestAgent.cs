using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Tracking;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Agent.Tests.Support;

/// <summary>An agent in the test process (AgentApp.Build), on 127.0.0.1 with ephemeral ports.</summary>
internal sealed class TestAgent : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestAgent(WebApplication app, string dataPath, LogCapture logs)
    {
        _app = app;
        DataPath = dataPath;
        Logs = logs;
        var endpoints = app.Services.GetRequiredService<AgentApp.RegistryListener>();
        BaseAddress = new Uri($"http://127.0.0.1:{endpoints.Port}/");
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public string DataPath { get; }

    public LogCapture Logs { get; }

    public IServiceProvider Services => _app.Services;

    public SwarmEngine Engine => _app.Services.GetRequiredService<SwarmEngine>();

    public BlobFetcher Fetcher => _app.Services.GetRequiredService<BlobFetcher>();

    public BlobCache Cache => _app.Services.GetRequiredService<BlobCache>();

    /// <summary>
    /// Starts an agent. Without <paramref name="metaInfos"/> / <paramref name="tracker"/> the real gRPC clients
    /// are used against <c>Agent:TrackerUrl</c> (by default a port nobody listens on).
    /// </summary>
    public static Task<TestAgent> StartAsync(string dataPath, IMetaInfoSource? metaInfos = null, ITrackerClient? tracker = null, string? originUrl = null, params string[] settings) =>
        StartAsync(dataPath, metaInfos, tracker, originUrl, probe: null, settings);

    /// <summary>
    /// Starts an agent whose one configured tracker is probed by <paramref name="probe"/> (readiness, and whether a slow
    /// source is worth waiting for); its calls go to <paramref name="metaInfos"/> / <paramref name="tracker"/> as above.
    /// </summary>
    public static async Task<TestAgent> StartAsync(string dataPath, IMetaInfoSource? metaInfos, ITrackerClient? tracker, string? originUrl, ITrackerProbe? probe, params string[] settings)
    {
        var logs = new LogCapture();
        string[] args =
        [
            "--Agent:RegistryUrl=http://127.0.0.1:0",
            "--Agent:PeerPort=0",
            $"--Agent:DataPath={dataPath}",
            $"--Agent:OriginUrl={originUrl ?? $"http://127.0.0.1:{UnusedPort()}"}",
            $"--Agent:TrackerUrl=http://127.0.0.1:{UnusedPort()}",
            "--Swarm:DownloadAnnounceInterval=00:00:00.5",
            "--Logging:LogLevel:Default=Debug",
            .. settings,
        ];
        var app = AgentApp.Build(args, services =>
        {
            services.AddSingleton<ILoggerProvider>(logs);
            if (metaInfos is not null)
            {
                services.AddSingleton(metaInfos);
            }

            if (tracker is not null)
            {
                services.AddSingleton(tracker);
            }

            if (probe is not null)
            {
                services.AddSingleton(sp => new TrackerDirectory(
                    [ProbedTrackerUrl],
                    url => new TrackerEndpoint(url, tracker ?? throw new ArgumentNullException(nameof(tracker)), metaInfos ?? throw new ArgumentNullException(nameof(metaInfos)), probe: probe),
                    new TrackerHealth(TimeProvider.System, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)),
                    sp.GetRequiredService<ILogger<TrackerDirectory>>()));
            }
        });
        await app.StartAsync();
        return new TestAgent(app, dataPath, logs);
    }

    /// <summary>The tracker of an agent started with a probe (its URL only names it: calls go to the test's fakes).</summary>
    public const string ProbedTrackerUrl = "http://tracker.test:7001";

    /// <summary>A port that was free a moment ago: connections to it are refused.</summary>
    public static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
    }
}

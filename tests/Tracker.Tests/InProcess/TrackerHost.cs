using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.MetaInfos;

namespace P2PRegistry.Tracker.Tests.InProcess;

/// <summary>The real tracker app on real Kestrel, both endpoints on 127.0.0.1 with ports the OS picks.</summary>
internal sealed class TrackerHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TrackerHost(WebApplication app, IPEndPoint grpc, IPEndPoint http)
    {
        _app = app;
        GrpcEndPoint = grpc;
        HttpEndPoint = http;
        Channel = GrpcChannel.ForAddress($"http://{grpc}");
        Client = new Contracts.Tracker.Tracker.TrackerClient(Channel);
        Http = new HttpClient { BaseAddress = new Uri($"http://{http}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public IPEndPoint GrpcEndPoint { get; }

    public IPEndPoint HttpEndPoint { get; }

    public GrpcChannel Channel { get; }

    public Contracts.Tracker.Tracker.TrackerClient Client { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Settings for tests that script many peers from this one host: 127.0.0.0/8 is a trusted proxy (announces name
    /// their peers' addresses with <c>ip</c>) and an origin network (they may claim the origin role).
    /// </summary>
    public static readonly string[] LoopbackTrusted =
    [
        "--Tracker:TrustedProxyNetworks:0=127.0.0.0/8",
        "--Tracker:OriginNetworks:0=127.0.0.0/8",
    ];

    /// <summary>Makes the tracker treat an info hash as one of a blob the origin holds, as a metainfo fetch would.</summary>
    public void Know(InfoHash infoHash) => _app.Services.GetRequiredService<KnownInfoHashes>().Add(infoHash);

    public static async Task<TrackerHost> StartAsync(string originUrl, params string[] extraArgs)
    {
        string[] args =
        [
            "--Tracker:GrpcUrl=http://127.0.0.1:0",
            "--Tracker:HttpUrl=http://127.0.0.1:0",
            $"--Tracker:OriginUrl={originUrl}",
            "--Tracker:OriginTimeout=00:00:05",
            "--Logging:LogLevel:Default=Warning",
            .. extraArgs,
        ];
        var app = TrackerApp.Build(args);
        await app.StartAsync();
        var listeners = app.Services.GetRequiredService<TrackerListeners>();
        return new TrackerHost(app, listeners.GrpcEndPoint, listeners.HttpEndPoint);
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    public static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

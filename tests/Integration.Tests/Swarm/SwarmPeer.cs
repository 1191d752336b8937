using System.Net;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Swarm.Transport;

namespace P2PRegistry.Integration.Tests.Swarm;

/// <summary>
/// One peer in the test process, as an agent would run it: a <see cref="SwarmEngine"/> behind the peer listener on its own
/// 127.0.0.1 port, announcing to the tracker process over gRPC (<see cref="GrpcTrackerClient"/>).
/// </summary>
internal sealed class SwarmPeer : IAsyncDisposable
{
    private readonly IHost _app;
    private readonly GrpcChannel _channel;

    private SwarmPeer(IHost app, GrpcChannel channel, SwarmEngine engine, AnnounceProbe tracker)
    {
        _app = app;
        _channel = channel;
        Engine = engine;
        Tracker = tracker;
    }

    public SwarmEngine Engine { get; }

    public AnnounceProbe Tracker { get; }

    public static async Task<SwarmPeer> StartAsync(Uri trackerGrpc, Action<SwarmOptions>? configure = null)
    {
        var channel = GrpcChannel.ForAddress(trackerGrpc);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var tracker = new AnnounceProbe(new GrpcTrackerClient(new Contracts.Tracker.Tracker.TrackerClient(channel), TrackerRole.Agent, TimeSpan.FromSeconds(3)));
        builder.Services.AddSingleton<ITrackerClient>(tracker);
        builder.Services.AddSwarm(configure: o =>
        {
            o.PeerPort = 0;
            o.DownloadAnnounceInterval = TimeSpan.FromSeconds(1);
            o.SeedAnnounceInterval = TimeSpan.FromSeconds(2);
            o.TrackerTimeout = TimeSpan.FromSeconds(3);
            o.ConnectTimeout = TimeSpan.FromSeconds(3);
            o.StallTimeout = TimeSpan.FromSeconds(3);
            configure?.Invoke(o);
        });
        builder.Services.AddSwarmPeerListener(_ => new IPEndPoint(IPAddress.Loopback, 0));
        var app = builder.Build();
        await app.StartAsync();
        var engine = app.Services.GetRequiredService<SwarmEngine>();
        return new SwarmPeer(app, channel, engine, tracker);
    }

    public Task<DownloadHandle> DownloadAsync(MetaInfo metaInfo, string path) => Engine.StartDownloadAsync(metaInfo, path);

    public SwarmStatistics Statistics(MetaInfo metaInfo) => Engine.GetStatistics(metaInfo.InfoHash) ?? throw new InvalidOperationException("Not in that swarm.");

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(cts.Token);
        _app.Dispose();
        _channel.Dispose();
    }

    /// <summary>The gRPC client, counting successful and failed announces (so a test can wait for the first).</summary>
    internal sealed class AnnounceProbe(ITrackerClient inner) : ITrackerClient
    {
        private readonly TaskCompletionSource _firstSuccess = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _failures;
        private int _successes;

        public int Failures => Volatile.Read(ref _failures);

        public int Successes => Volatile.Read(ref _successes);

        public Task WaitForSuccessAsync(TimeSpan timeout) => _firstSuccess.Task.WaitAsync(timeout);

        public async Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken)
        {
            try
            {
                var result = await inner.AnnounceAsync(infoHash, digest, peerId, port, complete, bytesLeft, announceEvent, cancellationToken);
                Interlocked.Increment(ref _successes);
                _firstSuccess.TrySetResult();
                return result;
            }
            catch
            {
                Interlocked.Increment(ref _failures);
                throw;
            }
        }
    }
}

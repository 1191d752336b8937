using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Transport;

namespace P2PRegistry.Origin.Seeding;

/// <summary>
/// The origin's peer port: a Kestrel server of its own whose only endpoint runs the swarm engine's connection
/// handler. Kept apart from the registry's server so the registry's addresses (and <c>--urls</c>) stay exactly
/// what they were. Every blob in the <see cref="SeedIndex"/> is seeded on demand, when a peer first asks for it.
/// </summary>
internal sealed class PeerListener : IHostedService, IAsyncDisposable
{
    private readonly PeerOptions _options;
    private readonly SwarmEngine _engine;
    private readonly SeedIndex _index;
    private readonly IdleSeedReaper _reaper;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger<PeerListener> _logger;
    private KestrelServer? _server;

    public PeerListener(IOptions<OriginOptions> options, SwarmEngine engine, SeedIndex index, IdleSeedReaper reaper, IServiceProvider services, ILoggerFactory loggerFactory)
    {
        _options = options.Value.Peer;
        _engine = engine;
        _index = index;
        _reaper = reaper;
        _services = services;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<PeerListener>();
    }

    /// <summary>The bound endpoint (the real port when <see cref="PeerOptions.Port"/> is 0); null before start.</summary>
    public IPEndPoint? BoundEndPoint { get; private set; }

    /// <summary>What peers are told to dial, <c>address:port</c>; null before start.</summary>
    public string? AdvertisedEndPoint { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var count = _index.Load();

        // Set before the first peer arrives: every swarm is opened on demand, later.
        _engine.SuperSeed = _options.SuperSeed;
        _engine.SeedResolver = infoHash =>
        {
            var source = _index.Resolve(infoHash);
            if (source is not null)
            {
                _reaper.Opened(infoHash);
            }

            return source;
        };

        var kestrel = new KestrelServerOptions { ApplicationServices = _services, AddServerHeader = false };
        ListenOptions? listen = null;
        kestrel.Listen(new IPEndPoint(IPAddress.Parse(_options.Address), _options.Port), options =>
        {
            listen = options;
            options.UseSwarmPeerProtocol();
        });
        var transport = new SocketTransportFactory(Options.Create(PeerSocketOptions.Apply(new SocketTransportOptions())), _loggerFactory);
        _server = new KestrelServer(Options.Create(kestrel), transport, _loggerFactory);
        await _server.StartAsync(new NoHttpApplication(), cancellationToken).ConfigureAwait(false);

        // Kestrel writes the bound address back into the listen options.
        var bound = listen!.IPEndPoint!;
        BoundEndPoint = bound;
        _engine.ListenPort = bound.Port;
        var advertised = IPAddress.Parse(string.IsNullOrEmpty(_options.AdvertiseAddress) ? _options.Address : _options.AdvertiseAddress);
        AdvertisedEndPoint = new IPEndPoint(advertised, bound.Port).ToString();
        SeedingLog.Listening(_logger, count, bound.ToString(), AdvertisedEndPoint);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        _server = null;
        return ValueTask.CompletedTask;
    }

    /// <summary>The peer endpoint speaks no HTTP: Kestrel requires an application, which is never called.</summary>
    private sealed class NoHttpApplication : IHttpApplication<IFeatureCollection>
    {
        public IFeatureCollection CreateContext(IFeatureCollection contextFeatures) => contextFeatures;

        public Task ProcessRequestAsync(IFeatureCollection context) => Task.CompletedTask;

        public void DisposeContext(IFeatureCollection context, Exception? exception)
        {
        }
    }
}

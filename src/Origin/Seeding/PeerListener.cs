using System.Net;
using Microsoft.Extensions.Options;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Transport;

namespace P2PRegistry.Origin.Seeding;

/// <summary>
/// The origin's peer port: a listener of its own (<see cref="PeerSocketListener"/>), apart from the registry's
/// Kestrel server, so the registry's addresses (and <c>--urls</c>) stay exactly what they were. Every blob in the <see cref="SeedIndex"/> is seeded on demand, when a peer first asks for it.
/// </summary>
internal sealed class PeerListener : IHostedService, IAsyncDisposable
{
    private readonly PeerOptions _options;
    private readonly SwarmEngine _engine;
    private readonly SeedIndex _index;
    private readonly IdleSeedReaper _reaper;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger<PeerListener> _logger;
    private PeerSocketListener? _listener;

    public PeerListener(IOptions<OriginOptions> options, SwarmEngine engine, SeedIndex index, IdleSeedReaper reaper, ILoggerFactory loggerFactory)
    {
        _options = options.Value.Peer;
        _engine = engine;
        _index = index;
        _reaper = reaper;
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

        _listener = new PeerSocketListener(_engine, _loggerFactory.CreateLogger<PeerSocketListener>());
        var bound = _listener.Start(new IPEndPoint(IPAddress.Parse(_options.Address), _options.Port));
        BoundEndPoint = bound;
        _engine.ListenPort = bound.Port;
        var advertised = IPAddress.Parse(string.IsNullOrEmpty(_options.AdvertiseAddress) ? _options.Address : _options.AdvertiseAddress);
        AdvertisedEndPoint = new IPEndPoint(advertised, bound.Port).ToString();
        SeedingLog.Listening(_logger, count, bound.ToString(), AdvertisedEndPoint);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _listener?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
            _listener = null;
        }
    }
}

using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Swarm;

/// <summary>
/// The P2P engine of a process (one per Origin or Agent): the swarms it takes part in, keyed by info
/// hash; inbound connections (through Kestrel, <see cref="Transport.PeerConnectionHandler"/>); dialled
/// connections to peers the tracker hands out; and the announce loop of each swarm.
/// </summary>
public sealed partial class SwarmEngine : IAsyncDisposable
{
    private readonly SwarmContext _context;
    private readonly ITrackerClient _tracker;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<InfoHash, SwarmEntry> _swarms = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private readonly Lock _startLock = new();

    /// <param name="tls">TLS on the peer port (<c>Swarm:Tls</c>), both accepted and dialled connections; null: plain BitTorrent.</param>
    public SwarmEngine(IOptions<SwarmOptions> options, ITrackerClient tracker, SwarmMetrics metrics, ILoggerFactory loggerFactory, TimeProvider? time = null, Transport.PeerTls? tls = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var settings = options.Value;
        var errors = settings.Validate().ToList();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(SwarmOptions.SectionName, typeof(SwarmOptions), errors);
        }

        _tracker = tracker ?? throw new ArgumentNullException(nameof(tracker));
        PeerTls = tls;
        _logger = loggerFactory.CreateLogger<SwarmEngine>();
        _context = new SwarmContext(settings, PeerId.CreateRandom(), time ?? TimeProvider.System, metrics, _logger)
        {
            ListenPort = settings.PeerPort,
        };
        StartAnnouncing();
    }

    public PeerId PeerId => _context.PeerId;

    /// <summary>TLS on the peer port, or null.</summary>
    public Transport.PeerTls? PeerTls { get; }

    /// <summary>The port announced to trackers: <see cref="SwarmOptions.PeerPort"/>, or the bound one when that was 0.</summary>
    public int ListenPort
    {
        get => _context.ListenPort;
        set => _context.ListenPort = value;
    }

    /// <summary>
    /// Whether complete blobs seeded from now on are super-seeded to our own peers: <see cref="SwarmOptions.SuperSeed"/>
    /// at start; a host (the origin) may turn it on before it serves its first peer.
    /// </summary>
    public bool SuperSeed
    {
        get => _context.SuperSeed;
        set => _context.SuperSeed = value;
    }

    internal SwarmContext Context => _context;

    /// <summary>Peer addresses currently refused for lying, summed over the swarms (each refuses them in its own swarm only).</summary>
    public int BlacklistedCount => _swarms.Values.Sum(static e => e.Swarm.BlacklistedCount);

    /// <summary>
    /// Downloads a blob into <paramref name="path"/> (resuming from its bitfield file if one is there), and
    /// keeps seeding it afterwards. A second call for the same blob returns the same download.
    /// </summary>
    public Task<DownloadHandle> StartDownloadAsync(MetaInfo metaInfo, string path, CancellationToken cancellationToken = default) =>
        StartDownloadAsync(metaInfo, path, wantAll: true, cancellationToken);

    /// <summary>
    /// Starts (or resumes) a download into <paramref name="path"/>. <paramref name="wantAll"/> false: a download of byte
    /// ranges, which fetches only the pieces its readers ask for (<see cref="DownloadHandle.Want"/>) until
    /// <see cref="DownloadHandle.WantAll"/>; it completes only once every piece is here. A download already running is
    /// returned (made whole when <paramref name="wantAll"/>; a whole one stays whole).
    /// </summary>
    public Task<DownloadHandle> StartDownloadAsync(MetaInfo metaInfo, string path, bool wantAll, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        lock (_startLock)
        {
            if (_swarms.TryGetValue(metaInfo.InfoHash, out var existing))
            {
                if (wantAll)
                {
                    existing.Handle.WantAll();
                }

                return Task.FromResult(existing.Handle);
            }

            var options = _context.Options;
            var store = PieceStore.OpenForDownload(metaInfo, path, options.DirectIo, options.HotPieceBytes, options.ResumeFlushBytes, options.ResumeFlushInterval, _context.Time);
            if (store.ResumedPiecesDiscarded > 0)
            {
                SwarmLog.ResumedPiecesDiscarded(_logger, metaInfo.Digest.Value, store.ResumedPiecesDiscarded, store.ResumedPieces);
                _context.Metrics.ResumedPiecesDiscarded(store.ResumedPiecesDiscarded);
            }

            var swarm = new BlobSwarm(_context, store, download: true, wantAll);
            SwarmLog.DownloadStarted(_logger, metaInfo.Digest.Value, metaInfo.InfoHash, metaInfo.Length, metaInfo.PieceCount, store.VerifiedCount,
                store.UsesDirectIo ? "direct I/O" : _context.Options.DirectIo ? "page cache (the file system refused O_DIRECT)" : "page cache (Swarm:DirectIo off)");
            var entry = Add(swarm);
            swarm.FinishIfAllPiecesVerified();
            return Task.FromResult(entry.Handle);
        }
    }

    /// <summary>
    /// Seeds a complete, verified blob read-only (the origin's stored blobs, an agent's cache). With
    /// <paramref name="verifiedHere"/> (this process wrote the file, checked against its digest and fsynced, since it
    /// started) its pieces are not checked again on their first read; otherwise
    /// <see cref="SwarmOptions.VerifySeedsOnFirstRead"/> decides.
    /// </summary>
    public DownloadHandle Seed(MetaInfo metaInfo, string path, bool verifiedHere = false)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        lock (_startLock)
        {
            if (_swarms.TryGetValue(metaInfo.InfoHash, out var existing))
            {
                return existing.Handle;
            }

            var swarm = OpenSeed(metaInfo, path, verifiedHere);
            SwarmLog.SeedStarted(_logger, metaInfo.Digest.Value, metaInfo.InfoHash, path);
            return Add(swarm).Handle;
        }
    }

    /// <summary>Tests only: <see cref="SwarmContext.BeforePieceCheck"/>.</summary>
    internal Action<int>? BeforePieceCheck
    {
        get => _context.BeforePieceCheck;
        set => _context.BeforePieceCheck = value;
    }

    /// <summary>
    /// Drops the piece arrays this process keeps for reuse (<see cref="Pieces.PieceBuffers"/>), for a node that has gone
    /// idle: the next full collection frees them; a later download rents afresh.
    /// </summary>
    public static void ReleasePieceBuffers() => Pieces.PieceBuffers.Trim();

    /// <summary>The statistics of a swarm this node is in, or null.</summary>
    public SwarmStatistics? GetStatistics(InfoHash infoHash) => _swarms.TryGetValue(infoHash, out var entry) ? entry.Swarm.Statistics : null;

    /// <summary>Leaves a swarm: announces stopped (best effort), closes its connections and its file.</summary>
    public async Task StopAsync(InfoHash infoHash)
    {
        SwarmEntry? entry;
        AnnounceTarget? target;
        lock (_startLock)
        {
            _swarms.TryRemove(infoHash, out entry);
            target = DetachTarget(infoHash, entry: null);
        }

        await StopAsync(entry, target).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        List<SwarmEntry> entries;
        List<AnnounceTarget> targets;
        lock (_startLock)
        {
            _stopping.Cancel();
            entries = [.. _swarms.Values];
            _swarms.Clear();
            lock (_announceLock)
            {
                targets = [.. _targets.Values];
                _targets.Clear();
                foreach (var target in targets)
                {
                    target.Removed = true;
                }
            }
        }

        WakeAnnouncer();
        try
        {
            await Task.WhenAll([_announceLoop, .. _announcesInFlight.Keys]).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Announces were cancelled; a tracker client slow to give up must not hold the process.
        }

        foreach (var entry in entries)
        {
            entry.Swarm.Dispose();
        }

        await AnnounceStoppedAsync(targets).ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_connections.Keys).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Sessions were cancelled; a transport slow to close must not hold the process.
        }

        _stopping.Dispose();
    }

    internal BlobSwarm? FindSwarm(InfoHash infoHash) => _swarms.TryGetValue(infoHash, out var entry) ? entry.Swarm : null;

    private SwarmEntry Add(BlobSwarm swarm)
    {
        var entry = new SwarmEntry(swarm, _context.Time.GetUtcNow());
        _swarms[swarm.InfoHash] = entry;
        swarm.Finished += OnFinished;
        AttachTarget(entry);
        return entry;
    }

    /// <summary>Closes a swarm that left the engine and announces "stopped" for a blob no longer seeded.</summary>
    private async Task StopAsync(SwarmEntry? entry, AnnounceTarget? target)
    {
        entry?.Swarm.Dispose();
        if (target is not null)
        {
            await AnnounceStoppedAsync([target]).ConfigureAwait(false);
        }
    }

    private void OnFinished(BlobSwarm swarm)
    {
        if (!_swarms.TryGetValue(swarm.InfoHash, out var entry) || entry.Swarm != swarm)
        {
            return;
        }

        if (swarm.HasFailed)
        {
            // A failed download is discarded: a later request starts afresh.
            AnnounceTarget? target = null;
            lock (_startLock)
            {
                if (_swarms.TryRemove(new KeyValuePair<InfoHash, SwarmEntry>(swarm.InfoHash, entry)))
                {
                    target = DetachTarget(swarm.InfoHash, entry);
                }
            }

            _ = StopAsync(entry, target);
        }
        else
        {
            AnnounceSoon(swarm.InfoHash);
        }
    }

    private void Track(Task connection)
    {
        _connections.TryAdd(connection, 0);
        _ = connection.ContinueWith(static (t, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _), _connections, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private bool IsSelf(IPEndPoint endPoint) =>
        endPoint.Port == _context.ListenPort && (IPAddress.IsLoopback(endPoint.Address) || endPoint.Address.Equals(IPAddress.Any));

    /// <summary>An open swarm, and what <see cref="CloseIdleSeeds"/> last saw of its traffic.</summary>
    private sealed class SwarmEntry(BlobSwarm swarm, DateTimeOffset openedAt)
    {
        public BlobSwarm Swarm { get; } = swarm;

        public DownloadHandle Handle { get; } = new(swarm);

        /// <summary>Bytes uploaded and downloaded when last looked at.</summary>
        public long LastActivity { get; set; }

        /// <summary>When its traffic was last seen to move (or it opened).</summary>
        public DateTimeOffset ActiveAt { get; set; } = openedAt;
    }
}

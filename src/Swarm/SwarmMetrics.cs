using System.Diagnostics;
using System.Diagnostics.Metrics;
using P2PRegistry.Swarm.Bandwidth;

namespace P2PRegistry.Swarm;

/// <summary>The engine's counters (meter <c>P2PRegistry.Swarm</c>). Peer kind is <c>origin</c> or <c>peer</c>.</summary>
public sealed class SwarmMetrics
{
    public const string MeterName = "P2PRegistry.Swarm";

    internal const string ConnectionsRefusedName = "p2pregistry.swarm.connections_refused";

    // Bytes are counted per block on the data path: plain sums, reported when a collector asks.
    private long _bytesFromPeers;
    private long _bytesFromOrigins;
    private long _bytesToPeers;
    private long _bytesToOrigins;
    private readonly Counter<long> _piecesVerified;
    private readonly Counter<long> _piecesFailed;
    private readonly UpDownCounter<long> _peersConnected;
    private readonly Counter<long> _peersBlacklisted;
    private readonly Counter<long> _downloadsCompleted;
    private readonly Counter<long> _downloadsFailed;
    private readonly Counter<long> _connectionsRefused;
    private readonly Counter<long> _peersEvicted;
    private readonly Counter<long> _seedsQuarantined;
    private readonly Counter<long> _resumedPiecesDiscarded;
    private readonly Counter<long> _announces;
    private readonly Counter<long> _announcesFailed;
    private readonly Counter<long> _swarmsClosedIdle;
    private Func<int>? _openSwarms;
    private Func<int>? _seededBlobs;

    public SwarmMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("p2pregistry.swarm.bytes_downloaded", () => ByKind(ref _bytesFromPeers, ref _bytesFromOrigins), "By", "Block bytes received and accepted.");
        meter.CreateObservableCounter("p2pregistry.swarm.bytes_uploaded", () => ByKind(ref _bytesToPeers, ref _bytesToOrigins), "By", "Block bytes sent to peers.");
        _piecesVerified = meter.CreateCounter<long>("p2pregistry.swarm.pieces_verified", "{piece}", "Pieces whose SHA-1 matched.");
        _piecesFailed = meter.CreateCounter<long>("p2pregistry.swarm.pieces_failed", "{piece}", "Pieces whose SHA-1 did not match.");
        _peersConnected = meter.CreateUpDownCounter<long>("p2pregistry.swarm.peers_connected", "{peer}", "Peer sessions past the handshake.");
        _peersBlacklisted = meter.CreateCounter<long>("p2pregistry.swarm.peers_blacklisted", "{peer}", "Peers refused after sending a corrupt piece.");
        _downloadsCompleted = meter.CreateCounter<long>("p2pregistry.swarm.downloads_completed", "{blob}", "Blobs downloaded and verified against their digest.");
        _downloadsFailed = meter.CreateCounter<long>("p2pregistry.swarm.downloads_failed", "{blob}", "Blobs whose download failed (digest mismatch, disk error).");
        _peersEvicted = meter.CreateCounter<long>("p2pregistry.swarm.peers_evicted", "{peer}", "Idle peers dropped to make room for a new one at a connection limit.");
        _connectionsRefused = meter.CreateCounter<long>(ConnectionsRefusedName, "{connection}", "Inbound peer connections closed over a connection limit or for a missing handshake (tag reason).");

        _seedsQuarantined = meter.CreateCounter<long>("p2pregistry.swarm.seeds_quarantined", "{blob}", "Seeded blobs stopped because a piece read from the disk failed its SHA-1.");
        _announces = meter.CreateCounter<long>("p2pregistry.swarm.announces", "{announce}", "Announces sent to the tracker (stopped ones too), answered or not.");
        _announcesFailed = meter.CreateCounter<long>("p2pregistry.swarm.announces_failed", "{announce}", "Announces the tracker did not answer (error, refusal, timeout).");
        _swarmsClosedIdle = meter.CreateCounter<long>("p2pregistry.swarm.swarms_closed_idle", "{swarm}", "Swarms of complete blobs closed after no traffic for the idle timeout (still seeded, reopened on demand).");
        meter.CreateObservableGauge("p2pregistry.swarm.swarms_open", () => _openSwarms?.Invoke() ?? 0, "{swarm}", "Swarms open now: downloads, and seeds with their file open.");
        meter.CreateObservableGauge("p2pregistry.swarm.blobs_seeded", () => _seededBlobs?.Invoke() ?? 0, "{blob}", "Complete blobs announced as seeds, with their swarm open or closed.");
        _resumedPiecesDiscarded = meter.CreateCounter<long>("p2pregistry.swarm.resumed_pieces_discarded", "{piece}", "Pieces a resume file marked verified that failed their SHA-1 when the download resumed (fetched again).");
    }

    internal void BytesDownloaded(long bytes, bool fromOrigin) => Interlocked.Add(ref fromOrigin ? ref _bytesFromOrigins : ref _bytesFromPeers, bytes);

    internal void BytesUploaded(long bytes, bool toOrigin) => Interlocked.Add(ref toOrigin ? ref _bytesToOrigins : ref _bytesToPeers, bytes);

    internal void PieceVerified() => _piecesVerified.Add(1);

    internal void PieceFailed() => _piecesFailed.Add(1);

    internal void PeerConnected() => _peersConnected.Add(1);

    internal void PeerDisconnected() => _peersConnected.Add(-1);

    internal void PeerBlacklisted() => _peersBlacklisted.Add(1);

    internal void PeerEvicted() => _peersEvicted.Add(1);

    internal void DownloadCompleted() => _downloadsCompleted.Add(1);

    internal void DownloadFailed() => _downloadsFailed.Add(1);

    internal void ConnectionRefused(ConnectionRefusal reason) => _connectionsRefused.Add(1, new KeyValuePair<string, object?>("reason", ReasonTag(reason)));

    internal static string ReasonTag(ConnectionRefusal reason) => reason switch
    {
        ConnectionRefusal.PendingTotal => "pending_total",
        ConnectionRefusal.PendingPerAddress => "pending_per_address",
        ConnectionRefusal.Total => "total",
        ConnectionRefusal.PerSwarm => "per_swarm",
        ConnectionRefusal.PerAddress => "per_address",
        ConnectionRefusal.HandshakeTimeout => "handshake_timeout",
        ConnectionRefusal.Tls => "tls",
        _ => "none",
    };

    internal void AnnounceAttempted() => _announces.Add(1);

    internal void AnnounceFailed() => _announcesFailed.Add(1);

    internal void SwarmClosedIdle() => _swarmsClosedIdle.Add(1);

    /// <summary>Where the gauges of open swarms and seeded blobs read from (the engine that reports to these metrics).</summary>
    internal void Observe(Func<int> openSwarms, Func<int> seededBlobs)
    {
        _openSwarms = openSwarms;
        _seededBlobs = seededBlobs;
    }

    internal void SeedQuarantined() => _seedsQuarantined.Add(1);

    internal void ResumedPiecesDiscarded(int pieces) => _resumedPiecesDiscarded.Add(pieces);

    private static Measurement<long>[] ByKind(ref long peers, ref long origins) =>
        [new(Interlocked.Read(ref peers), Kind(origin: false)), new(Interlocked.Read(ref origins), Kind(origin: true))];

    private static KeyValuePair<string, object?> Kind(bool origin) => new("peer.kind", origin ? "origin" : "peer");
}

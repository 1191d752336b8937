using System.Collections.Concurrent;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm;

/// <summary>In-process counters of one swarm on this node (what tests and the agent's status page read).</summary>
public sealed class SwarmStatistics
{
    private readonly ConcurrentDictionary<PeerId, long> _downloadedByPeer = new();
    private long _bytesDownloaded;
    private long _bytesUploaded;
    private long _bytesFromOrigins;
    private long _bytesWasted;
    private long _piecesVerified;
    private long _piecesFailed;

    /// <summary>Block bytes accepted (duplicates and unrequested blocks excluded).</summary>
    public long BytesDownloaded => Interlocked.Read(ref _bytesDownloaded);

    public long BytesUploaded => Interlocked.Read(ref _bytesUploaded);

    /// <summary>Accepted block bytes that came from origins.</summary>
    public long BytesFromOrigins => Interlocked.Read(ref _bytesFromOrigins);

    /// <summary>Block bytes received but dropped: endgame duplicates, cancelled or unrequested blocks.</summary>
    public long BytesWasted => Interlocked.Read(ref _bytesWasted);

    public long PiecesVerified => Interlocked.Read(ref _piecesVerified);

    public long PiecesFailed => Interlocked.Read(ref _piecesFailed);

    /// <summary>Accepted block bytes per peer.</summary>
    public IReadOnlyDictionary<PeerId, long> DownloadedByPeer => _downloadedByPeer;

    internal void AddDownloaded(PeerId peer, long bytes, bool fromOrigin)
    {
        Interlocked.Add(ref _bytesDownloaded, bytes);
        if (fromOrigin)
        {
            Interlocked.Add(ref _bytesFromOrigins, bytes);
        }

        _downloadedByPeer.AddOrUpdate(peer, static (_, added) => added, static (_, current, added) => current + added, bytes);
    }

    internal void AddUploaded(long bytes) => Interlocked.Add(ref _bytesUploaded, bytes);

    internal void AddWasted(long bytes) => Interlocked.Add(ref _bytesWasted, bytes);

    internal void PieceVerified() => Interlocked.Increment(ref _piecesVerified);

    internal void PieceFailed() => Interlocked.Increment(ref _piecesFailed);
}

using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Swarm;

/// <summary>
/// A download in progress (or finished): progress, a per-piece signal for streaming readers, and the
/// completion, which succeeds only once the whole blob hashed to its digest.
/// </summary>
public sealed class DownloadHandle
{
    private readonly BlobSwarm _swarm;

    internal DownloadHandle(BlobSwarm swarm)
    {
        _swarm = swarm;
    }

    public MetaInfo MetaInfo => _swarm.MetaInfo;

    public InfoHash InfoHash => _swarm.InfoHash;

    /// <summary>The file the blob is written to (complete and verified once <see cref="Completion"/> succeeded).</summary>
    public string Path => _swarm.Store.Path;

    public int PieceCount => _swarm.MetaInfo.PieceCount;

    public int VerifiedPieces => _swarm.Store.VerifiedCount;

    public bool IsComplete => _swarm.IsComplete;

    /// <summary>Completes when the blob is downloaded and matches its digest; faults (file discarded) otherwise.</summary>
    public Task Completion => _swarm.Completion;

    public int PeerCount => _swarm.SessionCount;

    public SwarmStatistics Statistics => _swarm.Statistics;

    /// <summary>Completes when piece <paramref name="piece"/> is verified and on disk, so a reader may stream it.</summary>
    public Task WaitForPieceAsync(int piece, CancellationToken cancellationToken) => _swarm.WaitForPieceAsync(piece, cancellationToken);

    /// <summary>Fetch pieces [first, first+count) before any other (a streaming reader is waiting for them).</summary>
    public void Prioritize(int firstPiece, int count) => _swarm.Prioritize(firstPiece, count);
}

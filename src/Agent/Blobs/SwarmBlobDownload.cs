using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Blobs;

/// <summary>A swarm download as a stream source: a byte is sendable once its piece passed SHA-1.</summary>
internal sealed class SwarmBlobDownload(DownloadHandle handle, int priorityPieces) : IBlobDownload
{
    private int _prioritized = -1;

    public DownloadHandle Handle { get; } = handle;

    public long Length => Handle.MetaInfo.Length;

    public string Path => Handle.Path;

    public bool IsComplete => Handle.IsComplete;

    public Task Completion => Handle.Completion;

    public async ValueTask<long> WaitReadableAsync(long offset, CancellationToken cancellationToken)
    {
        var meta = Handle.MetaInfo;
        var piece = (int)(offset / meta.PieceLength);
        if (!Handle.IsComplete)
        {
            // The pieces a waiting reader needs next go before any other.
            if (Interlocked.Exchange(ref _prioritized, piece) != piece)
            {
                Handle.Prioritize(piece, priorityPieces);
            }

            await Handle.WaitForPieceAsync(piece, cancellationToken).ConfigureAwait(false);
        }

        return meta.GetPieceOffset(piece) + meta.GetPieceSize(piece);
    }
}

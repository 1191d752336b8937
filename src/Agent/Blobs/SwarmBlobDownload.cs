using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Blobs;

/// <summary>A swarm download as a stream source: a byte is sendable once its piece passed SHA-1.</summary>
internal sealed class SwarmBlobDownload(DownloadHandle handle, int priorityPieces) : IBlobDownload
{
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
            await Handle.WaitForPieceAsync(piece, cancellationToken).ConfigureAwait(false);
        }

        return meta.GetPieceOffset(piece) + meta.GetPieceSize(piece);
    }

    public long Prioritize(long offset)
    {
        var meta = Handle.MetaInfo;
        var piece = (int)(offset / meta.PieceLength);
        if (!Handle.IsComplete)
        {
            Handle.Prioritize(piece, priorityPieces);
        }

        return meta.GetPieceOffset(piece) + meta.GetPieceSize(piece);
    }
}

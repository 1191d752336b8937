using Microsoft.Win32.SafeHandles;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Blobs;

/// <summary>A swarm download as a stream source: a byte is sendable once its piece passed SHA-1.</summary>
internal sealed class SwarmBlobDownload(DownloadHandle handle, int priorityPieces) : IBlobDownload
{
    public DownloadHandle Handle { get; } = handle;

    public long Length => Handle.MetaInfo.Length;

    /// <summary>Verified pieces, in bytes (a piece's length each; only the change matters).</summary>
    public long Stored => (long)Handle.VerifiedPieces * Handle.MetaInfo.PieceLength;

    public string Path => Handle.Path;

    public bool IsComplete => Handle.IsComplete;

    public Task Completion => Handle.Completion;

    /// <summary>Up to the first piece still missing: a reader behind the download sends what is here in long runs.</summary>
    public async ValueTask<long> WaitReadableAsync(long offset, CancellationToken cancellationToken)
    {
        var end = HereUntil(offset, out var piece);
        if (end <= offset)
        {
            await Handle.WaitForPieceAsync(piece, cancellationToken).ConfigureAwait(false);
            end = Math.Max(HereUntil(offset, out _), PieceEnd(piece));
        }

        return HoldLastPiece(offset, end);
    }

    /// <summary>
    /// Like <see cref="WaitReadableAsync"/>, for a reader of a part of the blob: every verified byte is sendable, the last
    /// piece's too (its SHA-1 is the check; the whole blob's sha256 is for whole-blob readers, and may never come when
    /// only some pieces are fetched).
    /// </summary>
    public async ValueTask<long> WaitVerifiedAsync(long offset, CancellationToken cancellationToken)
    {
        var end = HereUntil(offset, out var piece);
        if (end <= offset)
        {
            await Handle.WaitForPieceAsync(piece, cancellationToken).ConfigureAwait(false);
            end = Math.Max(HereUntil(offset, out _), PieceEnd(piece));
        }

        return end;
    }

    /// <summary>
    /// Puts the reader's next missing pieces first. Holds until the first of them: a reader passing through pieces
    /// that are already here asks again only once it reaches one it has to wait for.
    /// </summary>
    public long Prioritize(long offset)
    {
        var end = HereUntil(offset, out var piece);
        if (end > offset)
        {
            return end;
        }

        Handle.Prioritize(piece, priorityPieces);
        return PieceEnd(piece);
    }

    // The end of what is here from the reader's piece on (the whole blob once complete); 0 when that piece is missing.
    private long HereUntil(long offset, out int piece)
    {
        var meta = Handle.MetaInfo;
        piece = (int)(offset / meta.PieceLength);
        return Handle.IsComplete ? meta.Length : Handle.VerifiedRunEnd(piece);
    }

    /// <summary>
    /// Until the download is complete its file is written with direct I/O, so the reader's bytes come through the
    /// download (its hot pieces, or direct reads); a cached read of the file could keep stale bytes. Complete, the file
    /// is read as usual. A closed store of an incomplete download (failed, abandoned, shutting down) ends the stream.
    /// </summary>
    public int Read(SafeFileHandle file, long offset, Span<byte> destination)
    {
        if (!Handle.IsComplete)
        {
            try
            {
                return Handle.Read(offset, destination);
            }
            catch (ObjectDisposedException) when (Handle.IsComplete)
            {
                // Completed and stopped between the check and the read: the file is final now.
            }
        }

        return RandomAccess.Read(file, destination, offset);
    }

    private long PieceEnd(int piece) => Handle.MetaInfo.GetPieceOffset(piece) + Handle.MetaInfo.GetPieceSize(piece);

    // A run reaching the end stops short of the last piece while the digest is unchecked: the reader sends the rest
    // now and waits for the check only for the final piece (which it then holds until the blob is verified).
    private long HoldLastPiece(long offset, long end)
    {
        var meta = Handle.MetaInfo;
        var lastPiece = meta.GetPieceOffset(meta.PieceCount - 1);
        return end >= meta.Length && offset < lastPiece && !Handle.IsComplete ? lastPiece : end;
    }
}

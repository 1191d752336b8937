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

    /// <summary>
    /// The end (exclusive byte offset) of the run of verified pieces that starts with <paramref name="piece"/>: 0 when
    /// <paramref name="piece"/> itself is missing, the blob's length when every piece from there on is verified.
    /// </summary>
    public long VerifiedRunEnd(int piece)
    {
        var meta = _swarm.MetaInfo;
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        if (piece >= meta.PieceCount)
        {
            return meta.Length;
        }

        var missing = _swarm.Store.FirstMissing(piece);
        return missing < 0 ? meta.Length : missing == piece ? 0 : meta.GetPieceOffset(missing);
    }

    /// <summary>
    /// Reads verified bytes of the blob at <paramref name="offset"/> (a streaming reader: wait for the pieces
    /// first with <see cref="WaitForPieceAsync"/>). Returns the bytes read, 0 at the end of the blob.
    /// </summary>
    /// <exception cref="InvalidOperationException">A piece in the range is not verified yet.</exception>
    public int Read(long offset, Span<byte> destination)
    {
        var meta = _swarm.MetaInfo;
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, meta.Length);
        var total = 0;
        while (!destination.IsEmpty && offset < meta.Length)
        {
            var piece = (int)(offset / meta.PieceLength);
            if (!_swarm.Store.HasPiece(piece))
            {
                if (total > 0)
                {
                    break;
                }

                throw new InvalidOperationException($"Piece {piece} of {meta.Digest} is not verified yet.");
            }

            var inPiece = (int)(offset - meta.GetPieceOffset(piece));
            var length = Math.Min(destination.Length, meta.GetPieceSize(piece) - inPiece);
            if (!_swarm.Store.ReadExactly(piece, inPiece, destination[..length]))
            {
                throw new IOException($"{Path} is shorter than {meta.Digest}.");
            }

            total += length;
            offset += length;
            destination = destination[length..];
        }

        return total;
    }

    /// <summary>True while every piece is fetched; false for a download of byte ranges (started with <c>wantAll: false</c>).</summary>
    public bool WantsAll => _swarm.WantsAll;

    /// <summary>
    /// A reader of a byte range needs <paramref name="count"/> pieces from <paramref name="firstPiece"/>: a download of
    /// byte ranges fetches those (and only the pieces asked for so far); a whole download fetches every piece anyway.
    /// </summary>
    public void Want(int firstPiece, int count) => _swarm.Want(firstPiece, count);

    /// <summary>Every piece is fetched from now on: the download completes (and is checked against its digest).</summary>
    public void WantAll() => _swarm.WantAll();

    /// <summary>A streaming reader is at <paramref name="firstPiece"/>: the next <paramref name="count"/> pieces it lacks are fetched before any other.</summary>
    public void Prioritize(int firstPiece, int count) => _swarm.Prioritize(firstPiece, count);
}

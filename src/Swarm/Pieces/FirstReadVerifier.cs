using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// Checks each piece of a complete blob against its SHA-1 the first time it is read after the file was opened, so
/// a blob that rotted on disk (a bad sector, a stray write) is caught before its first wrong byte is sent: its peers
/// would throw the piece away and blacklist us, and pulls over HTTP would fail their digest at the end. Once a piece
/// fails, the blob is corrupt: every later read is refused. A piece that matched is remembered in a bit read without
/// a lock, so its later reads cost one memory load more than before. Used by the swarm's piece store and by the agent's
/// cache for the blobs it finds on disk at start.
/// </summary>
public sealed class FirstReadVerifier
{
    private readonly MetaInfo _metaInfo;
    private readonly string _path;

    // One bit per piece, set once its SHA-1 matched. Two readers of a piece not checked yet may both check it: rare,
    // harmless, and cheaper than making every first read wait on a lock.
    private readonly long[] _verified;
    private int _verifiedCount;
    private int _corruptPiece = -1;

    public FirstReadVerifier(MetaInfo metaInfo, string path)
    {
        ArgumentNullException.ThrowIfNull(metaInfo);
        _metaInfo = metaInfo;
        _path = path;
        _verified = new long[(metaInfo.PieceCount + 63) / 64];
    }

    public MetaInfo MetaInfo => _metaInfo;

    /// <summary>Pieces checked and found intact.</summary>
    public int VerifiedCount => Volatile.Read(ref _verifiedCount);

    /// <summary>True once every piece matched: the whole blob is what its MetaInfo says.</summary>
    public bool AllVerified => VerifiedCount == _metaInfo.PieceCount;

    /// <summary>True once a piece failed its check.</summary>
    public bool IsCorrupt => Volatile.Read(ref _corruptPiece) >= 0;

    public bool IsVerified(int piece) => (Volatile.Read(ref _verified[piece >> 6]) & (1L << (piece & 63))) != 0;

    /// <exception cref="CorruptPieceException">A piece failed its check earlier.</exception>
    public void ThrowIfCorrupt()
    {
        var piece = Volatile.Read(ref _corruptPiece);
        if (piece >= 0)
        {
            throw new CorruptPieceException(_metaInfo.Digest, piece, _path);
        }
    }

    /// <summary>
    /// Checks the whole of <paramref name="piece"/>, just read from the disk. True when it matches (it is not checked
    /// again); false when it does not, and the blob is corrupt from now on: <paramref name="first"/> says whether this
    /// was the first piece found so (once per blob, whoever finds it).
    /// </summary>
    public bool Verify(int piece, ReadOnlySpan<byte> bytes, out bool first)
    {
        if (_metaInfo.PieceHashMatches(piece, bytes))
        {
            var bit = 1L << (piece & 63);
            if ((Interlocked.Or(ref _verified[piece >> 6], bit) & bit) == 0)
            {
                Interlocked.Increment(ref _verifiedCount);
            }

            first = false;
            return true;
        }

        first = Interlocked.CompareExchange(ref _corruptPiece, piece, -1) == -1;
        return false;
    }
}

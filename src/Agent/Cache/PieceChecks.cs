using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Agent.Cache;

/// <summary>
/// The pieces of a cached blob checked against their SHA-1 since this start, for a blob found on disk at start: each
/// piece is checked the first time it is read, then read with no check. In memory only, so a restart checks again.
/// Two readers of a piece not checked yet may both check it: rare, harmless, and cheaper than a lock on every read.
/// </summary>
internal sealed class PieceChecks(MetaInfo metaInfo)
{
    private readonly long[] _verified = new long[(metaInfo.PieceCount + 63) / 64];
    private int _count;

    public MetaInfo MetaInfo { get; } = metaInfo;

    /// <summary>True once every piece matched: the whole blob is what its MetaInfo says.</summary>
    public bool AllVerified => Volatile.Read(ref _count) == MetaInfo.PieceCount;

    public bool IsVerified(int piece) => (Volatile.Read(ref _verified[piece >> 6]) & (1L << (piece & 63))) != 0;

    /// <summary>Checks the whole of <paramref name="piece"/>, just read from the disk; true when it matches.</summary>
    public bool Verify(int piece, ReadOnlySpan<byte> bytes)
    {
        if (!MetaInfo.PieceHashMatches(piece, bytes))
        {
            return false;
        }

        var bit = 1L << (piece & 63);
        if ((Interlocked.Or(ref _verified[piece >> 6], bit) & bit) == 0)
        {
            Interlocked.Increment(ref _count);
        }

        return true;
    }
}

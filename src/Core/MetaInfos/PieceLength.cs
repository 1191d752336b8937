using System.Numerics;

namespace P2PRegistry.Core.MetaInfos;

/// <summary>
/// The piece length rule: the power of two at or above <c>size / 1024</c> (so a blob has about a thousand
/// pieces), clamped to 256 KiB … 16 MiB. Small pieces let a swarm pipeline sooner; large ones cut
/// per-piece overhead (hash checks, have messages, bitfield size).
/// </summary>
public static class PieceLength
{
    public const int Min = 256 * 1024;
    public const int Max = 16 * 1024 * 1024;
    public const int TargetPieceCount = 1024;

    public static int For(long blobLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blobLength);
        var target = (blobLength + TargetPieceCount - 1) / TargetPieceCount;
        if (target <= Min)
        {
            return Min;
        }

        if (target >= Max)
        {
            return Max;
        }

        return (int)BitOperations.RoundUpToPowerOf2((ulong)target);
    }

    /// <summary>True for a length this system accepts from others: a power of two in [16 KiB, 64 MiB].</summary>
    public static bool IsAcceptable(long pieceLength) =>
        pieceLength is >= 16 * 1024 and <= 64 * 1024 * 1024 && BitOperations.IsPow2(pieceLength);
}

using System.Buffers;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// The arrays that hold whole pieces (a piece being assembled from blocks, one waiting for its check or the disk, the
/// hot pieces, a piece read back to check it): a pool of their own instead of the shared array pool, so a node that
/// has gone idle can give them back at once (<see cref="Trim"/>). The shared pool keeps up to 32 arrays of a size per
/// core and one per thread, and lets go of at most two of a size per core at a full collection once they were unused
/// for a minute: after a 1 GiB pull (1 MiB pieces) an idle agent held tens of MiB of piece arrays for many minutes.
/// Sized like the shared pool (<see cref="MaxArraysPerSize"/> per size), so a pull reuses its arrays the same way.
/// </summary>
internal static class PieceBuffers
{
    /// <summary>Arrays kept per size: what the shared pool keeps on two cores (32 each), enough for the pieces in flight.</summary>
    internal const int MaxArraysPerSize = 64;

    private static ArrayPool<byte> s_pool = NewPool();

    /// <summary>An array of at least <paramref name="length"/> bytes (a power of two up to <see cref="PieceLength.Max"/>).</summary>
    public static byte[] Rent(int length) => Volatile.Read(ref s_pool).Rent(length);

    /// <summary>
    /// Gives an array back for reuse. The pool keeps one only in place of an array it handed out, so one rented before a
    /// <see cref="Trim"/> (or from the shared pool, whose sizes are the same) is mostly let go.
    /// </summary>
    public static void Return(byte[] buffer) => Volatile.Read(ref s_pool).Return(buffer);

    /// <summary>
    /// Drops every array kept for reuse (a fresh pool from now on): the next collection frees them.
    /// </summary>
    public static void Trim() => Volatile.Write(ref s_pool, NewPool());

    private static ArrayPool<byte> NewPool() => ArrayPool<byte>.Create(PieceLength.Max, MaxArraysPerSize);
}

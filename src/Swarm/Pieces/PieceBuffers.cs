using System.Numerics;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// The arrays that hold whole pieces (a piece being assembled from blocks, one waiting for its check or the disk, the
/// hot pieces, a piece read back to check it): a pool of their own instead of the shared array pool, so a node that
/// has gone idle can give them back at once (<see cref="Trim"/>). The shared pool lets go of at most two arrays of a
/// size per core at a full collection once they were unused for a minute: after a 1 GiB pull (1 MiB pieces) an idle
/// agent held tens of MiB of piece arrays for many minutes.
/// </summary>
/// <remarks>
/// Arrays are powers of two from the requested length up (so a piece of any size fits one, as with the shared pool).
/// Up to <see cref="MaxKeptPerSize"/> returned arrays of each size are kept; a rent with none kept allocates an array of
/// its own size (never a larger one), and a return with the shelf full lets the array go. Lengths above
/// <see cref="PieceLength.Max"/> are allocated exactly and never kept.
/// </remarks>
internal static class PieceBuffers
{
    /// <summary>Returned arrays kept per size (the shared pool keeps 32 per core): enough for the pieces in flight.</summary>
    internal const int MaxKeptPerSize = 64;

    private static readonly int s_sizes = BitOperations.Log2((uint)PieceLength.Max) + 1;
    private static Shelves s_shelves = new(s_sizes);

    /// <summary>An array of at least <paramref name="length"/> bytes.</summary>
    public static byte[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        return length > PieceLength.Max ? new byte[length] : Volatile.Read(ref s_shelves).Rent(SizeIndex(length));
    }

    /// <summary>Gives an array back for reuse (kept if it is of a pooled size and its shelf has room).</summary>
    public static void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var length = buffer.Length;
        if (length > 0 && length <= PieceLength.Max && BitOperations.IsPow2(length))
        {
            Volatile.Read(ref s_shelves).Return(BitOperations.Log2((uint)length), buffer);
        }
    }

    /// <summary>Drops every array kept for reuse (empty shelves from now on): the next collection frees them.</summary>
    public static void Trim() => Volatile.Write(ref s_shelves, new Shelves(s_sizes));

    /// <summary>Arrays kept now of the size a rent of <paramref name="length"/> bytes gets (tests).</summary>
    internal static int KeptOf(int length) => Volatile.Read(ref s_shelves).CountOf(SizeIndex(length));

    private static int SizeIndex(int length) => BitOperations.Log2(BitOperations.RoundUpToPowerOf2((uint)length));

    private sealed class Shelves(int sizes)
    {
        private readonly Shelf[] _shelves = [.. Enumerable.Range(0, sizes).Select(_ => new Shelf())];

        public int CountOf(int index) => _shelves[index].Count;

        public byte[] Rent(int index) => _shelves[index].TryTake() ?? GC.AllocateUninitializedArray<byte>(1 << index);

        public void Return(int index, byte[] buffer) => _shelves[index].Keep(buffer);
    }

    private sealed class Shelf
    {
        private readonly Lock _lock = new();
        private readonly Stack<byte[]> _kept = new();

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _kept.Count;
                }
            }
        }

        public byte[]? TryTake()
        {
            lock (_lock)
            {
                return _kept.TryPop(out var kept) ? kept : null;
            }
        }

        public void Keep(byte[] buffer)
        {
            lock (_lock)
            {
                if (_kept.Count < MaxKeptPerSize)
                {
                    _kept.Push(buffer);
                }
            }
        }
    }
}

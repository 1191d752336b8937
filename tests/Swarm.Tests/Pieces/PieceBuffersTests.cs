using System.Runtime.CompilerServices;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Swarm.Tests.Pieces;

public sealed class PieceBuffersTests
{
    // A size no piece of another test has (the pool is the process's): nobody else rents or returns into its bucket.
    private const int UnusedSize = 24;

    [Fact]
    public void Trim_DropsTheKeptArrays_ACollectionFreesThem()
    {
        var kept = RentAndReturn(UnusedSize);
        Collect();
        Assert.True(kept.IsAlive, "the pool keeps a returned array for reuse");

        PieceBuffers.Trim();
        Collect();

        Assert.False(kept.IsAlive, "after the trim nothing holds the array");
    }

    [Fact]
    public void Rent_OfTheLargestPiece_ReusesTheReturnedArray()
    {
        var first = PieceBuffers.Rent(PieceLength.Max);
        PieceBuffers.Return(first);

        var second = PieceBuffers.Rent(PieceLength.Max);
        PieceBuffers.Return(second);

        Assert.Same(first, second);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference RentAndReturn(int length)
    {
        var buffer = PieceBuffers.Rent(length);
        PieceBuffers.Return(buffer);
        return new WeakReference(buffer);
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}

using System.Runtime.CompilerServices;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Swarm.Tests.Pieces;

public sealed class PieceBuffersTests
{
    // A size no piece of another test has (the pool is the process's): nobody else rents or returns into its bucket.
    private const int UnusedSize = 24;
    private const int OtherSize = 100;
    private const int ThirdSize = 3000;

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

    [Fact]
    public void Rent_ManyMoreThanKept_EveryArrayOfTheRequestedSize()
    {
        // ArrayPool.Create's pool, past its count, hands out arrays of the next two larger sizes: a piece would take
        // 2× or 4× its memory under load.
        var rented = Enumerable.Range(0, PieceBuffers.MaxKeptPerSize * 2).Select(_ => PieceBuffers.Rent(OtherSize)).ToList();
        try
        {
            Assert.All(rented, buffer => Assert.Equal(128, buffer.Length));
        }
        finally
        {
            rented.ForEach(PieceBuffers.Return);
        }
    }

    [Fact]
    public void Return_BeyondTheShelf_LetsTheArraysGo()
    {
        var rented = Enumerable.Range(0, PieceBuffers.MaxKeptPerSize + 10).Select(_ => PieceBuffers.Rent(ThirdSize)).ToList();
        rented.ForEach(PieceBuffers.Return);

        Assert.Equal(PieceBuffers.MaxKeptPerSize, PieceBuffers.KeptOf(ThirdSize));
    }

    [Fact]
    public void Rent_AboveTheLargestPiece_ExactLengthNeverKept()
    {
        var buffer = PieceBuffers.Rent(PieceLength.Max + 1);
        PieceBuffers.Return(buffer);

        Assert.Equal(PieceLength.Max + 1, buffer.Length);
        Assert.NotSame(buffer, PieceBuffers.Rent(PieceLength.Max + 1));
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

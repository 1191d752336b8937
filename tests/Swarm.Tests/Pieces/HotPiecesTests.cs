using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Swarm.Tests.Pieces;

public sealed class HotPiecesTests
{
    [Fact]
    public void Keep_BeyondCapacity_EvictsTheOldestFirst()
    {
        using var hot = new HotPieces(capacity: 2);
        hot.Keep(1, Filled(1));
        hot.Keep(2, Filled(2));
        hot.Keep(3, Filled(3));

        Span<byte> one = stackalloc byte[1];
        Assert.Equal(2, hot.Count);
        Assert.False(hot.TryCopy(1, 0, one));
        Assert.True(hot.TryCopy(2, 0, one));
        Assert.Equal(2, one[0]);
        Assert.True(hot.TryCopy(3, 0, one));
        Assert.Equal(3, one[0]);
    }

    [Fact]
    public void Keep_ThePieceAgain_KeepsTheFirstCopy()
    {
        using var hot = new HotPieces(capacity: 4);
        hot.Keep(7, Filled(1));
        hot.Keep(7, Filled(2));

        Span<byte> one = stackalloc byte[1];
        Assert.Equal(1, hot.Count);
        Assert.True(hot.TryCopy(7, 10, one));
        Assert.Equal(1, one[0]);
    }

    [Fact]
    public void TryCopy_ARange_CopiesThoseBytes()
    {
        using var hot = new HotPieces(capacity: 1);
        var buffer = PieceBuffers.Rent(64);
        for (var i = 0; i < 64; i++)
        {
            buffer[i] = (byte)i;
        }

        hot.Keep(0, buffer);
        var range = new byte[4];
        Assert.True(hot.TryCopy(0, 10, range));
        Assert.Equal(new byte[] { 10, 11, 12, 13 }, range);
    }

    [Fact]
    public void Dispose_ForgetsEverything_AndKeepsNothingAfter()
    {
        var hot = new HotPieces(capacity: 2);
        hot.Keep(0, Filled(1));
        hot.Dispose();
        hot.Keep(1, Filled(1));

        Assert.Equal(0, hot.Count);
        Assert.False(hot.TryCopy(1, 0, new byte[1]));
    }

    private static byte[] Filled(byte value)
    {
        var buffer = PieceBuffers.Rent(16);
        buffer.AsSpan().Fill(value);
        return buffer;
    }
}

using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Pieces;

public sealed class HotPiecesTests
{
    private readonly PieceBufferPool _pool = new(maxIdleBytes: 1024 * 1024);

    [Fact]
    public void Keep_BeyondCapacity_EvictsTheOldestFirst()
    {
        using var hot = new HotPieces(capacity: 2, pool: _pool);
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
        Assert.Equal(4096, _pool.IdleBytes);
    }

    [Fact]
    public void Keep_ThePieceAgain_KeepsTheFirstCopy()
    {
        using var hot = new HotPieces(capacity: 4, pool: _pool);
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
        using var hot = new HotPieces(capacity: 1, pool: _pool);
        var buffer = _pool.Rent(64);
        for (var i = 0; i < 64; i++)
        {
            buffer.Span[i] = (byte)i;
        }

        hot.Keep(0, buffer);
        var range = new byte[4];
        Assert.True(hot.TryCopy(0, 10, range));
        Assert.Equal(new byte[] { 10, 11, 12, 13 }, range);
    }

    [Fact]
    public void Dispose_ForgetsEverything_AndKeepsNothingAfter()
    {
        var hot = new HotPieces(capacity: 2, pool: _pool);
        hot.Keep(0, Filled(1));
        hot.Dispose();
        hot.Keep(1, Filled(1));

        Assert.Equal(0, hot.Count);
        Assert.False(hot.TryCopy(1, 0, new byte[1]));
        Assert.Equal(4096, _pool.IdleBytes); // both buffers went back (the second reused the first)
    }

    [Fact]
    public void Hold_KeepsTheReadersWindowPastTheCapacity_UntilTheReaderMovesPast()
    {
        using var hot = new HotPieces(capacity: 2, window: 4, pool: _pool);
        var hold = hot.Hold(0);
        for (var piece = 0; piece < 6; piece++)
        {
            hot.Keep(piece, Filled((byte)piece));
        }

        // Pieces 0..3 are the reader's window; of the rest only the capacity (2) stays.
        Assert.Equal(6, hot.Count);
        hot.Keep(6, Filled(6));
        Assert.True(hot.Contains(0));
        Assert.False(hot.Contains(4));
        Assert.True(hot.Contains(5));
        Assert.True(hot.Contains(6));

        // The reader at piece 2: 2..5 are its window; of 0, 1 and 6 (held by none) the newest two stay.
        hot.MoveHold(hold, 2);
        Assert.False(hot.Contains(0));
        Assert.True(hot.Contains(1));
        Assert.True(hot.Contains(2));
        Assert.True(hot.Contains(3));

        hot.Release(hold);
        Assert.Equal(2, hot.Count);
        Assert.True(hot.Contains(5));
        Assert.True(hot.Contains(6));
    }

    [Fact]
    public void Hold_AtMostCapacityPlusWindow_TheOldestGoEvenWhenHeld()
    {
        using var hot = new HotPieces(capacity: 1, window: 8, pool: _pool);
        var behind = hot.Hold(0);
        var ahead = hot.Hold(5);
        for (var piece = 0; piece < 20; piece++)
        {
            hot.Keep(piece, Filled((byte)piece));
        }

        Assert.Equal(9, hot.Count);
        Assert.True(hot.Contains(19));
        Assert.False(hot.Contains(0));
        hot.Release(behind);
        hot.Release(ahead);
        Assert.Equal(1, hot.Count);
    }

    [Fact]
    public void Clear_LeavesTheHeldPieces()
    {
        using var hot = new HotPieces(capacity: 4, window: 2, pool: _pool);
        _ = hot.Hold(1);
        hot.Keep(0, Filled(0));
        hot.Keep(1, Filled(1));
        hot.Keep(2, Filled(2));
        hot.Keep(3, Filled(3));

        hot.Clear();

        Assert.Equal(2, hot.Count);
        Assert.True(hot.Contains(1));
        Assert.True(hot.Contains(2));
    }

    [Fact]
    public void Hold_WithoutAWindow_HoldsNothing()
    {
        using var hot = new HotPieces(capacity: 2, pool: _pool);
        Assert.Equal(0, hot.Hold(0));
    }

    [Fact]
    public void PieceBuffer_IsAlignedForDirectIo_AndThePoolReusesIt()
    {
        var buffer = _pool.Rent(64 * 1024 + 1);
        Assert.Equal(64 * 1024 + 4096, buffer.Capacity);
        using (var dir = new TempDirectory())
        {
            var path = dir.Combine("file");
            File.WriteAllBytes(path, new byte[buffer.Capacity]);
            using var direct = DirectIo.TryOpen(path);
            Assert.NotNull(direct);

            // Written from the buffer's own memory (aligned), not through a bounce buffer.
            buffer.Span.Fill(7);
            Assert.True(DirectIo.WriteIfAligned(direct, buffer.Span, 0));
            Assert.Null(DirectIo.WriteIfAligned(direct, buffer.Span[1..4097], 0));
        }

        _pool.Return(buffer);
        Assert.Same(buffer, _pool.Rent(64 * 1024 + 100));
        Assert.Equal(0, _pool.IdleBytes);
    }

    [Fact]
    public void PieceBufferPool_KeepsNoMoreThanItsBound()
    {
        var pool = new PieceBufferPool(maxIdleBytes: 8192);
        pool.Return(pool.Rent(4096));
        pool.Return(new PieceBuffer(4096));
        pool.Return(new PieceBuffer(4096));
        Assert.Equal(8192, pool.IdleBytes);
    }

    private PieceBuffer Filled(byte value)
    {
        var buffer = _pool.Rent(16);
        buffer.Span.Fill(value);
        return buffer;
    }
}

using P2PRegistry.Agent.Blobs;
using P2PRegistry.Distribution;

namespace P2PRegistry.Agent.Tests.Blobs;

/// <summary>The pieces a byte range needs fetched: the covering pieces and the read-ahead, within the blob.</summary>
public sealed class PieceSpanTests
{
    private const int Piece = 1024 * 1024;
    private const long Blob = 10L * Piece + 100; // 11 pieces, the last one 100 bytes

    [Theory]
    [InlineData(0, 1, 0, 0, 1)] // the first byte
    [InlineData(0, Piece, 0, 0, 1)] // exactly the first piece
    [InlineData(0, Piece + 1, 0, 0, 2)] // one byte into the second
    [InlineData(Piece - 1, 2, 0, 0, 2)] // straddles a boundary
    [InlineData(5L * Piece, 1, 0, 5, 1)]
    [InlineData(10L * Piece, 100, 0, 10, 1)] // the short last piece
    [InlineData(Blob - 1, 1, 0, 10, 1)] // the last byte
    [InlineData(3L * Piece + 10, 100, 2L * Piece, 3, 3)] // read-ahead of two pieces' bytes past the range's end
    [InlineData(3L * Piece + 10, 100, 1, 3, 1)] // read-ahead that stays inside the range's last piece
    [InlineData(3L * Piece, Piece, 1, 3, 2)] // one byte of read-ahead reaches the next piece
    [InlineData(9L * Piece, 10, 100L * Piece, 9, 2)] // read-ahead bounded by the blob's end
    [InlineData(Blob - 1, 1, 64L * Piece, 10, 1)] // at the end: no read-ahead at all
    public void Cover_Range_CoveringPiecesAndReadAhead(long offset, long count, long readAhead, int first, int pieces)
    {
        Assert.Equal(new PieceSpan(first, pieces), PieceSpan.Cover(Blob, Piece, offset, count, readAhead));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(5, 0)]
    [InlineData(5, -1)]
    [InlineData(Blob, 10)] // starts past the end
    public void Cover_EmptyRange_NoPiece(long offset, long count)
    {
        Assert.Equal(default, PieceSpan.Cover(Blob, Piece, offset, count, 4L * Piece));
    }

    [Fact]
    public void Cover_CountPastTheEnd_StopsAtTheLastPiece()
    {
        Assert.Equal(new PieceSpan(8, 3), PieceSpan.Cover(Blob, Piece, 8L * Piece, long.MaxValue, long.MaxValue));
    }

    [Fact]
    public void Cover_EmptyBlob_NoPiece()
    {
        Assert.Equal(default, PieceSpan.Cover(0, Piece, 0, 1, Piece));
    }

    [Theory]
    [InlineData("bytes=-1048576", 9, 2)] // the last MiB: the 100-byte last piece and most of the one before
    [InlineData("bytes=-100", 10, 1)] // exactly the last piece
    [InlineData("bytes=-50", 10, 1)]
    [InlineData("bytes=-99999999999", 0, 11)] // a suffix longer than the blob is the whole blob
    public void Cover_SuffixRange_AsParsed_CoversTheTail(string header, int first, int pieces)
    {
        Assert.Equal(ByteRangeStatus.Partial, ByteRange.TryParse(header, Blob, out var range));

        Assert.Equal(new PieceSpan(first, pieces), PieceSpan.Cover(Blob, Piece, range.Start, range.Length, 4L * Piece));
    }

    [Fact]
    public void Cover_BadArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PieceSpan.Cover(Blob, 0, 0, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PieceSpan.Cover(Blob, Piece, -1, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PieceSpan.Cover(Blob, Piece, 0, 1, -1));
    }
}

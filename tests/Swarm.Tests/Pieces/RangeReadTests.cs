using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Pieces;

/// <summary>
/// A block request reads what it needs from the disk: with direct I/O the aligned blocks holding the range, not the
/// whole piece (up to 16 MiB for one 16 KiB block), and a part of a piece is never kept as a hot piece.
/// </summary>
public sealed class RangeReadTests
{
    // Two pieces of 4 MiB and a short last one of 5 000 bytes (not a whole number of 4 KiB blocks).
    private const int PieceLength = 4 * 1024 * 1024;
    private const int Length = (2 * PieceLength) + 5_000;
    private const int Block = 16 * 1024;

    [Theory]
    [InlineData(0)]
    [InlineData(1024 * 1024)]
    [InlineData(1000)] // unaligned: the read widens to the 4 KiB blocks around it
    [InlineData(PieceLength - Block)]
    public void ReadExactly_BlockOfAPieceNotHot_DirectReadsTheAlignedRangeOnly(int offset)
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        using var store = WrittenStore(dir, blob, directIo: true);
        Assert.True(store.UsesDirectIo, "a file in the temp folder (ext4 here) takes O_DIRECT");
        var before = store.BytesReadFromDisk;

        var block = new byte[Block];
        Assert.True(store.ReadExactly(1, offset, block));

        Assert.Equal(blob.Piece(1).Slice(offset, Block).ToArray(), block);
        var read = store.BytesReadFromDisk - before;
        Assert.InRange(read, Block, Block + DirectIo.Alignment);
        Assert.Equal(0, store.HotPieceCount);
    }

    [Theory]
    [InlineData(0, 5_000)]
    [InlineData(4_900, 100)] // the blob's last bytes, from an unaligned offset
    [InlineData(4_095, 2)]
    public void ReadExactly_EndOfTheBlob_CorrectBytesFromTheShortLastBlock(int offset, int length)
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        using var store = WrittenStore(dir, blob, directIo: true);
        var before = store.BytesReadFromDisk;

        var bytes = new byte[length];
        Assert.True(store.ReadExactly(2, offset, bytes));

        Assert.Equal(blob.Piece(2).Slice(offset, length).ToArray(), bytes);
        Assert.InRange(store.BytesReadFromDisk - before, length, 8192);
        Assert.Equal(length == 5_000 ? 1 : 0, store.HotPieceCount); // the whole last piece is kept, a part of it is not
    }

    [Fact]
    public void ReadExactly_ManyBlocksOfOnePiece_EachReadsItsOwnBlockAndNoneIsKept()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        using var store = WrittenStore(dir, blob, directIo: true);
        var before = store.BytesReadFromDisk;

        var block = new byte[Block];
        for (var offset = 0; offset < 16 * Block; offset += Block)
        {
            Assert.True(store.ReadExactly(0, offset, block));
            Assert.Equal(blob.Piece(0).Slice(offset, Block).ToArray(), block);
        }

        Assert.Equal(16L * Block, store.BytesReadFromDisk - before);
        Assert.Equal(0, store.HotPieceCount);
    }

    [Fact]
    public void ReadExactly_WholePiece_StillKeptHot()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        using var store = WrittenStore(dir, blob, directIo: true);

        var piece = new byte[PieceLength];
        Assert.True(store.ReadExactly(0, 0, piece));
        var before = store.BytesReadFromDisk;
        var block = new byte[Block];
        Assert.True(store.ReadExactly(0, 3 * Block, block));

        Assert.Equal(1, store.HotPieceCount);
        Assert.Equal(before, store.BytesReadFromDisk); // the block came from memory
        Assert.Equal(blob.Piece(0).Slice(3 * Block, Block).ToArray(), block);
    }

    [Fact]
    public void ReadExactly_PageCache_ReadsTheRangeOnly()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        using var store = WrittenStore(dir, blob, directIo: false);
        var before = store.BytesReadFromDisk;

        var block = new byte[Block];
        Assert.True(store.ReadExactly(1, 1000, block));

        Assert.Equal(blob.Piece(1).Slice(1000, Block).ToArray(), block);
        Assert.Equal(Block, store.BytesReadFromDisk - before);
    }

    [Fact]
    public void ReadExactly_RangesAtUnalignedOffsetsEitherSideOfAPieceBoundary_CorrectBytes()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        using var store = WrittenStore(dir, blob, directIo: true);

        // A streaming reader's range across the end of piece 1 into the short last piece, at unaligned offsets.
        var start = PieceLength - 3_000;
        var head = new byte[3_000];
        var tail = new byte[4_999];
        Assert.True(store.ReadExactly(1, start, head));
        Assert.True(store.ReadExactly(2, 1, tail));

        Assert.Equal(blob.Content.AsSpan(PieceLength + start, 3_000).ToArray(), head);
        Assert.Equal(blob.Content.AsSpan((2 * PieceLength) + 1, 4_999).ToArray(), tail);
    }

    private static PieceStore WrittenStore(TempDirectory dir, TestBlob blob, bool directIo)
    {
        var store = PieceStore.OpenForDownload(blob.MetaInfo, dir.Combine("blob"), directIo, hotPieceBytes: 4L * PieceLength);
        for (var piece = 0; piece < blob.MetaInfo.PieceCount; piece++)
        {
            store.Write(piece, 0, blob.Piece(piece));
            store.MarkVerified(piece);
        }

        Assert.Equal(0, store.HotPieceCount); // written, never kept: every read below starts at the disk
        return store;
    }
}

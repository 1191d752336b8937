using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Pieces;

/// <summary>
/// A complete blob opened to seed with <c>verifyOnFirstRead</c>: each piece is checked against its SHA-1 the first
/// time any of it is read; a piece that rotted on disk is never handed out, and the store refuses every read after.
/// </summary>
public sealed class VerifyOnFirstReadTests
{
    // 4 pieces of 256 KiB and a short one.
    private const int PieceLength = 256 * 1024;
    private const int Length = (4 * PieceLength) + 10_000;
    private const int Block = 16 * 1024;

    [Fact]
    public void ReadExactly_BlockOfACorruptPiece_ThrowsNamingThePieceAndLaterReadsThrowToo()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = blob.WriteTo(dir.Path);
        FileDamage.FlipByte(path, (2 * PieceLength) + 200_000);
        using var store = PieceStore.OpenComplete(blob.MetaInfo, path, verifyOnFirstRead: true);
        var corrupted = new List<int>();
        store.Corrupted += corrupted.Add;
        var block = new byte[Block];

        // The other pieces read fine before.
        Assert.True(store.ReadExactly(0, 0, block));
        Assert.Equal(blob.Piece(0)[..Block].ToArray(), block);
        Assert.True(store.ReadExactly(3, Block, block));
        Assert.Equal(blob.Piece(3).Slice(Block, Block).ToArray(), block);

        // A block of piece 2 far from the flipped byte: the whole piece is checked.
        Array.Clear(block);
        var exception = Assert.Throws<CorruptPieceException>(() => store.ReadExactly(2, 0, block));
        Assert.Equal(2, exception.Piece);
        Assert.Equal(blob.MetaInfo.Digest, exception.Digest);
        Assert.Equal(path, exception.Path);
        Assert.Equal(new byte[Block], block); // nothing of the corrupt piece was copied out
        Assert.True(store.IsCorrupt);

        // Every later read throws, the verified pieces' too; the event was raised once.
        Assert.Throws<CorruptPieceException>(() => store.ReadExactly(0, 0, block));
        Assert.Throws<CorruptPieceException>(() => store.ReadExactly(2, Block, block));
        Assert.Throws<CorruptPieceException>(() => store.Read(4, 0, block.AsSpan(0, 100)));
        Assert.Equal([2], corrupted);
    }

    [Fact]
    public void ReadExactly_IntactPiece_CheckedOnceThenPlainReads()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        using var store = PieceStore.OpenComplete(blob.MetaInfo, blob.WriteTo(dir.Path), verifyOnFirstRead: true);
        var block = new byte[Block];

        Assert.True(store.ReadExactly(1, 5 * Block, block));
        Assert.Equal(blob.Piece(1).Slice(5 * Block, Block).ToArray(), block);
        Assert.Equal(PieceLength, store.BytesReadFromDisk); // the whole piece, to check it
        Assert.Equal(1, store.FirstReadVerifiedCount);

        for (var offset = 0; offset < PieceLength; offset += Block)
        {
            Assert.True(store.ReadExactly(1, offset, block));
            Assert.Equal(blob.Piece(1).Slice(offset, Block).ToArray(), block);
        }

        Assert.Equal(2L * PieceLength, store.BytesReadFromDisk); // then each block alone
        Assert.Equal(1, store.FirstReadVerifiedCount);
        Assert.False(store.IsCorrupt);
    }

    [Fact]
    public void ReadExactly_ShortLastPieceIntact_CheckedAndRead()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        using var store = PieceStore.OpenComplete(blob.MetaInfo, blob.WriteTo(dir.Path), verifyOnFirstRead: true);

        var tail = new byte[100];
        Assert.True(store.ReadExactly(4, 9_900, tail));

        Assert.Equal(blob.Content.AsSpan(Length - 100).ToArray(), tail);
        Assert.Equal(1, store.FirstReadVerifiedCount);
    }

    [Fact]
    public void ReadExactly_CorruptFileOpenedWithoutVerifying_ReadsWhatIsOnDisk()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = blob.WriteTo(dir.Path);
        FileDamage.FlipByte(path, 2 * PieceLength);
        using var store = PieceStore.OpenComplete(blob.MetaInfo, path);

        var block = new byte[Block];
        Assert.True(store.ReadExactly(2, 0, block));

        Assert.False(store.VerifiesOnFirstRead);
        Assert.NotEqual(blob.Piece(2)[..Block].ToArray(), block);
        Assert.Equal(Block, store.BytesReadFromDisk);
    }
}

using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Pieces;

public sealed class PieceStoreTests
{
    [Fact]
    public void OpenForDownload_NewFile_PreallocatesAndHasNoPieces()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1_000_000, 256 * 1024);
        using var store = PieceStore.OpenForDownload(blob.MetaInfo, dir.Combine("blob"));

        Assert.Equal(blob.MetaInfo.Length, new FileInfo(store.Path).Length);
        Assert.Equal(0, store.VerifiedCount);
        Assert.False(store.IsComplete);
        Assert.True(File.Exists(store.BitfieldPath));
    }

    [Fact]
    public void WriteThenRead_Blocks_RoundTripAtPieceOffsets()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1_000_000, 256 * 1024);
        using var store = PieceStore.OpenForDownload(blob.MetaInfo, dir.Combine("blob"));

        for (var piece = blob.MetaInfo.PieceCount - 1; piece >= 0; piece--)
        {
            var data = blob.Piece(piece);
            for (var offset = 0; offset < data.Length; offset += 16384)
            {
                var length = Math.Min(16384, data.Length - offset);
                store.Write(piece, offset, data.Slice(offset, length));
            }
        }

        var last = blob.MetaInfo.PieceCount - 1;
        var buffer = new byte[blob.MetaInfo.GetPieceSize(last)];
        Assert.True(store.ReadExactly(last, 0, buffer));
        Assert.Equal(blob.Piece(last).ToArray(), buffer);
        Assert.Equal(blob.Content, File.ReadAllBytes(store.Path));
    }

    [Fact]
    public void Write_OutsidePiece_Throws()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        using var store = PieceStore.OpenForDownload(blob.MetaInfo, dir.Combine("blob"));

        // The last piece is 300000 - 262144 = 37856 bytes.
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Write(1, 30_000, new byte[16384]));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Write(2, 0, new byte[1]));
    }

    [Fact]
    public void Reopen_AfterSomePiecesVerified_ResumesThosePiecesOnly()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(2_000_000, 256 * 1024);
        var path = dir.Combine("blob");
        using (var store = PieceStore.OpenForDownload(blob.MetaInfo, path))
        {
            foreach (var piece in new[] { 0, 3, 7 })
            {
                store.Write(piece, 0, blob.Piece(piece));
                Assert.True(store.MarkVerified(piece));
            }

            Assert.False(store.MarkVerified(3));
            store.Write(5, 0, blob.Piece(5)); // written but never verified: not resumed
        }

        using var resumed = PieceStore.OpenForDownload(blob.MetaInfo, path);
        Assert.Equal(3, resumed.VerifiedCount);
        Assert.True(resumed.HasPiece(0));
        Assert.True(resumed.HasPiece(3));
        Assert.True(resumed.HasPiece(7));
        Assert.False(resumed.HasPiece(5));
        var buffer = new byte[blob.MetaInfo.GetPieceSize(7)];
        Assert.True(resumed.ReadExactly(7, 0, buffer));
        Assert.Equal(blob.Piece(7).ToArray(), buffer);
    }

    [Fact]
    public void Reopen_BitfieldOfAnotherBlob_StartsAfresh()
    {
        using var dir = new TempDirectory();
        var first = TestBlob.Create(600_000, 256 * 1024, seed: 1);
        var second = TestBlob.Create(600_000, 256 * 1024, seed: 2);
        var path = dir.Combine("blob");
        using (var store = PieceStore.OpenForDownload(first.MetaInfo, path))
        {
            store.Write(0, 0, first.Piece(0));
            store.MarkVerified(0);
        }

        using var other = PieceStore.OpenForDownload(second.MetaInfo, path);
        Assert.Equal(0, other.VerifiedCount);
    }

    [Fact]
    public void Reopen_DataFileMissing_StartsAfresh()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(600_000, 256 * 1024);
        var path = dir.Combine("blob");
        using (var store = PieceStore.OpenForDownload(blob.MetaInfo, path))
        {
            store.Write(0, 0, blob.Piece(0));
            store.MarkVerified(0);
        }

        File.Delete(path);
        using var again = PieceStore.OpenForDownload(blob.MetaInfo, path);
        Assert.Equal(0, again.VerifiedCount);
    }

    [Fact]
    public void MarkComplete_RemovesBitfieldFile()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        using var store = PieceStore.OpenForDownload(blob.MetaInfo, dir.Combine("blob"));
        for (var i = 0; i < blob.MetaInfo.PieceCount; i++)
        {
            store.Write(i, 0, blob.Piece(i));
            store.MarkVerified(i);
        }

        Assert.True(store.IsComplete);
        store.MarkComplete();
        Assert.False(File.Exists(store.BitfieldPath));
    }

    [Fact]
    public void OpenComplete_ExistingFile_AllPiecesReadOnly()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(700_000, 256 * 1024);
        var path = blob.WriteTo(dir.Path);
        using var store = PieceStore.OpenComplete(blob.MetaInfo, path);

        Assert.True(store.IsComplete);
        Assert.True(store.IsReadOnly);
        Assert.Equal(new byte[] { 0b1110_0000 }, store.GetBitfield());
        var block = new byte[16384];
        Assert.Equal(16384, store.Read(1, 16384, block));
        Assert.Equal(blob.Piece(1).Slice(16384, 16384).ToArray(), block);
        Assert.Throws<InvalidOperationException>(() => store.Write(0, 0, block));
        Assert.False(File.Exists(store.BitfieldPath));
    }

    [Fact]
    public void OpenComplete_WrongLength_Throws()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(700_000, 256 * 1024);
        var path = dir.Combine("short");
        File.WriteAllBytes(path, blob.Content.AsSpan(0, 1000).ToArray());
        Assert.Throws<InvalidDataException>(() => PieceStore.OpenComplete(blob.MetaInfo, path));
    }

    [Fact]
    public void Delete_RemovesDataAndBitfield()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        var store = PieceStore.OpenForDownload(blob.MetaInfo, dir.Combine("blob"));
        store.Delete();
        Assert.False(File.Exists(dir.Combine("blob")));
        Assert.False(File.Exists(dir.Combine("blob") + PieceStore.BitfieldSuffix));
    }
}

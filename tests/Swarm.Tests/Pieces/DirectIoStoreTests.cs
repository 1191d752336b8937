using System.Diagnostics;
using System.Globalization;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Pieces;

/// <summary>
/// A download's store with direct I/O: whole pieces go past the page cache (checked with util-linux's fincore,
/// which counts a file's pages in the page cache), read back intact, and the hot pieces serve reads from memory.
/// </summary>
public sealed class DirectIoStoreTests
{
    // 15 whole pieces of 64 KiB and a short last one of 16 960 bytes.
    private const int Length = 1_000_000;
    private const int PieceLength = 64 * 1024;

    [Fact]
    public void WholePieces_WrittenDirectly_BypassThePageCacheAndReadBackIntact()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = dir.Combine("blob");
        using (var store = PieceStore.OpenForDownload(blob.MetaInfo, path, directIo: true, hotPieceBytes: 0))
        {
            Assert.True(store.UsesDirectIo, "a file in the temp folder (ext4 here) takes O_DIRECT");
            for (var piece = blob.MetaInfo.PieceCount - 1; piece >= 0; piece--)
            {
                store.Write(piece, 0, blob.Piece(piece));
            }

            // Only the short last piece (not a whole number of 4 KiB blocks) went through the page cache: 5 pages.
            var resident = ResidentBytes(path);
            Assert.True(resident <= 5 * 4096, $"{resident} bytes of the file are in the page cache");

            for (var piece = 0; piece < blob.MetaInfo.PieceCount; piece++)
            {
                var bytes = new byte[blob.MetaInfo.GetPieceSize(piece)];
                Assert.True(store.ReadExactly(piece, 0, bytes));
                Assert.Equal(blob.Piece(piece).ToArray(), bytes);
            }

            var block = new byte[16384];
            Assert.Equal(block.Length, store.Read(3, 32768, block));
            Assert.Equal(blob.Piece(3).Slice(32768, 16384).ToArray(), block);
        }

        Assert.Equal(blob.Content, File.ReadAllBytes(path));
    }

    [Fact]
    public void HotPieces_ServeTheLastKeptPiecesFromMemory_OlderOnesFromTheDisk()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = dir.Combine("blob");
        using var store = PieceStore.OpenForDownload(blob.MetaInfo, path, directIo: true, hotPieceBytes: 4 * PieceLength);
        for (var piece = 0; piece < 8; piece++)
        {
            store.Write(piece, 0, blob.Piece(piece));
            var buffer = PieceBuffers.Rent(PieceLength);
            blob.Piece(piece).CopyTo(buffer);
            store.Keep(piece, buffer);
        }

        // Overwrite pieces 0..7 on disk behind the store's back: only what is still hot (pieces 4..7) reads as before.
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            RandomAccess.Write(file, new byte[8 * PieceLength], 0);
        }

        // Newest first: a piece read from the disk becomes hot itself and pushes the oldest out.
        var bytes = new byte[PieceLength];
        for (var piece = 7; piece >= 0; piece--)
        {
            Assert.True(store.ReadExactly(piece, 0, bytes));
            Assert.Equal(piece >= 4 ? blob.Piece(piece).ToArray() : new byte[PieceLength], bytes);
        }
    }

    [Fact]
    public void ReadFromTheDisk_KeptHotUnlessTheReaderSaysOtherwise()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        using var store = PieceStore.OpenForDownload(blob.MetaInfo, dir.Combine("blob"), directIo: true, hotPieceBytes: 4 * PieceLength);
        store.Write(0, 0, blob.Piece(0));
        store.Write(1, 0, blob.Piece(1));
        var bytes = new byte[PieceLength];

        Assert.True(store.ReadExactly(0, 0, bytes, keep: false));
        Assert.Equal(blob.Piece(0).ToArray(), bytes);
        Assert.Equal(0, store.HotPieceCount);
        Assert.True(store.ReadExactly(1, 0, bytes));
        Assert.Equal(blob.Piece(1).ToArray(), bytes);
        Assert.Equal(1, store.HotPieceCount);
    }

    [Fact]
    public void DirectIoOff_PiecesGoThroughThePageCache()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = dir.Combine("blob");
        using var store = PieceStore.OpenForDownload(blob.MetaInfo, path, directIo: false);

        Assert.False(store.UsesDirectIo);
        store.Write(0, 0, blob.Piece(0));
        store.Keep(0, PieceBuffers.Rent(PieceLength));
        Assert.True(ResidentBytes(path) >= PieceLength);
        var bytes = new byte[PieceLength];
        Assert.True(store.ReadExactly(0, 0, bytes));
        Assert.Equal(blob.Piece(0).ToArray(), bytes);
    }

    private static long ResidentBytes(string path)
    {
        using var fincore = Process.Start(new ProcessStartInfo("fincore", ["--bytes", "--noheadings", "--output", "RES", path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = fincore.StandardOutput.ReadToEnd();
        Assert.True(fincore.WaitForExit(10_000), "fincore did not finish");
        Assert.True(fincore.ExitCode == 0, $"fincore failed: {fincore.StandardError.ReadToEnd()}");
        return long.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }
}

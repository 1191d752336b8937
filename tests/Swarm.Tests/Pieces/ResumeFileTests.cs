using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Pieces;

/// <summary>
/// What a crash (or anything else) leaves in a download's resume file is trusted only when it is exactly a resume
/// file of this blob: otherwise the download starts afresh, and no piece is read back as verified.
/// </summary>
public sealed class ResumeFileTests
{
    // 8 pieces of 256 KiB and a short one: two bitfield bytes, the second with 7 spare bits.
    private const int Length = 8 * 256 * 1024 + 1000;
    private const int PieceLength = 256 * 1024;

    [Fact]
    public void OpenForDownload_ResumeFileCutShortByACrash_NothingVerified()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = VerifiedSome(dir, blob, [0, 1, 2, 8]);
        using (var file = File.OpenHandle(path + PieceStore.BitfieldSuffix, FileMode.Open, FileAccess.Write))
        {
            RandomAccess.SetLength(file, RandomAccess.GetLength(file) - 1);
        }

        using var store = PieceStore.OpenForDownload(blob.MetaInfo, path);

        Assert.Equal(0, store.VerifiedCount);
        Assert.False(store.HasPiece(0));
        Assert.Equal(ResumeFile.LengthFor(blob.MetaInfo), new FileInfo(store.BitfieldPath).Length); // written afresh
    }

    [Fact]
    public void OpenForDownload_ResumeFileLongerThanItsBlobs_NothingVerified()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = VerifiedSome(dir, blob, [0, 1]);
        using (var file = File.OpenHandle(path + PieceStore.BitfieldSuffix, FileMode.Append, FileAccess.Write))
        {
            RandomAccess.Write(file, new byte[] { 0xFF }, RandomAccess.GetLength(file));
        }

        using var store = PieceStore.OpenForDownload(blob.MetaInfo, path);

        Assert.Equal(0, store.VerifiedCount);
    }

    [Fact]
    public void OpenForDownload_ResumeFileOfGarbage_NothingVerified()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = VerifiedSome(dir, blob, [3]);
        var garbage = new byte[ResumeFile.LengthFor(blob.MetaInfo)];
        Array.Fill(garbage, (byte)0xFF); // every piece "verified", and spare bits set, behind a wrong header
        File.WriteAllBytes(path + PieceStore.BitfieldSuffix, garbage);

        using var store = PieceStore.OpenForDownload(blob.MetaInfo, path);

        Assert.Equal(0, store.VerifiedCount);
    }

    [Fact]
    public void OpenForDownload_ResumeFileWithSpareBitsSet_NothingVerified()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = VerifiedSome(dir, blob, [0]);
        var bytes = File.ReadAllBytes(path + PieceStore.BitfieldSuffix);
        bytes[^1] |= 0x01; // a bit past the last of the 9 pieces
        File.WriteAllBytes(path + PieceStore.BitfieldSuffix, bytes);

        using var store = PieceStore.OpenForDownload(blob.MetaInfo, path);

        Assert.Equal(0, store.VerifiedCount);
    }

    [Fact]
    public void OpenForDownload_DataFileCutShort_NothingVerifiedAndFileRestoredToTheBlobsLength()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = VerifiedSome(dir, blob, [0, 7, 8]);
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Write))
        {
            RandomAccess.SetLength(file, 3 * PieceLength); // pieces 7 and 8 would read past the end
        }

        using var store = PieceStore.OpenForDownload(blob.MetaInfo, path);

        Assert.Equal(0, store.VerifiedCount);
        Assert.Equal(blob.MetaInfo.Length, new FileInfo(path).Length);
    }

    [Fact]
    public void OpenForDownload_ResumeFileIntact_ItsPiecesOnlyAndLaterOnesRecorded()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = VerifiedSome(dir, blob, [1, 8]);
        using (var store = PieceStore.OpenForDownload(blob.MetaInfo, path))
        {
            Assert.Equal(2, store.VerifiedCount);
            store.Write(4, 0, blob.Piece(4));
            Assert.True(store.MarkVerified(4));
        }

        using var resumed = PieceStore.OpenForDownload(blob.MetaInfo, path);

        Assert.Equal(3, resumed.VerifiedCount);
        Assert.Equal(new byte[] { 0b0100_1000, 0b1000_0000 }, resumed.GetBitfield());
    }

    [Fact]
    public void OpenForDownload_TornTempRecordLeftByACrash_IgnoredAndTheLastRecordTrusted()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = VerifiedSome(dir, blob, [0, 2]);

        // A crash halfway through a save: the temp file holds a header and part of a bitfield naming every piece.
        var record = File.ReadAllBytes(path + PieceStore.BitfieldSuffix);
        var torn = record.AsSpan(0, record.Length - 1).ToArray();
        torn[^1] = 0xFF;
        File.WriteAllBytes(ResumeFile.TempPathFor(path + PieceStore.BitfieldSuffix), torn);

        using (var store = PieceStore.OpenForDownload(blob.MetaInfo, path))
        {
            Assert.Equal(2, store.VerifiedCount);
            Assert.True(store.HasPiece(0) && store.HasPiece(2) && !store.HasPiece(1));

            // The next save writes the temp file afresh and renames it over the record: nothing torn stays.
            store.Write(5, 0, blob.Piece(5));
            store.MarkVerified(5);
            Assert.True(store.Flush());
        }

        Assert.False(File.Exists(ResumeFile.TempPathFor(path + PieceStore.BitfieldSuffix)));
        using var resumed = PieceStore.OpenForDownload(blob.MetaInfo, path);
        Assert.Equal(3, resumed.VerifiedCount);
    }

    [Fact]
    public void MarkVerified_BeforeAFlush_NotRecordedSoACrashForgetsIt()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var time = new FakeTimeProvider();
        var path = dir.Combine("blob");
        using var store = PieceStore.OpenForDownload(blob.MetaInfo, path, directIo: false, flushBytes: 3L * PieceLength, flushInterval: TimeSpan.FromSeconds(2), time: time);

        store.Write(1, 0, blob.Piece(1));
        store.MarkVerified(1);
        store.Write(3, 0, blob.Piece(3));
        store.MarkVerified(3);

        // What a crash now would leave: the record names no piece (their bytes may not be on the disk yet).
        Assert.False(store.FlushDue);
        Assert.Equal(0, RecordedPieces(blob, path));

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(store.FlushDue);
        Assert.True(store.Flush());
        Assert.False(store.FlushDue);
        Assert.Equal(2, RecordedPieces(blob, path));

        // By size: three pieces waiting make a flush due at once.
        foreach (var piece in new[] { 4, 5, 6 })
        {
            store.Write(piece, 0, blob.Piece(piece));
            store.MarkVerified(piece);
        }

        Assert.True(store.FlushDue);
        Assert.True(store.Flush());
        Assert.Equal(5, RecordedPieces(blob, path));
        Assert.Equal(2, store.FlushCount);
    }

    [Fact]
    public void Dispose_PiecesWaitingForAFlush_FlushedAndRecorded()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = dir.Combine("blob");
        using (var store = PieceStore.OpenForDownload(blob.MetaInfo, path, directIo: false, flushInterval: TimeSpan.FromHours(1)))
        {
            store.Write(7, 0, blob.Piece(7));
            store.MarkVerified(7);
            Assert.Equal(0, RecordedPieces(blob, path));
        }

        Assert.Equal(1, RecordedPieces(blob, path));
    }

    [Fact]
    public void OpenForDownload_RecordedPieceRottedOnDisk_DiscardedAndFetchedAgain()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var path = VerifiedSome(dir, blob, [0, 1, 2, 8]);
        FileDamage.FlipByte(path, PieceLength + 1000);

        using (var store = PieceStore.OpenForDownload(blob.MetaInfo, path))
        {
            Assert.Equal(4, store.ResumedPieces);
            Assert.Equal(1, store.ResumedPiecesDiscarded);
            Assert.False(store.HasPiece(1));
            Assert.True(store.HasPiece(0) && store.HasPiece(2) && store.HasPiece(8));
        }

        // The record was rewritten without it.
        Assert.Equal(3, RecordedPieces(blob, path));
    }

    [Fact]
    public void TryOpen_Missing_Null()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Length, PieceLength);
        var verified = new Core.Pieces.Bitfield(blob.MetaInfo.PieceCount);

        Assert.Null(ResumeFile.TryOpen(dir.Combine("none.pieces"), blob.MetaInfo, verified));
        Assert.Equal(0, verified.SetCount);
    }

    private static int RecordedPieces(TestBlob blob, string path)
    {
        var verified = new Core.Pieces.Bitfield(blob.MetaInfo.PieceCount);
        return ResumeFile.TryOpen(path + PieceStore.BitfieldSuffix, blob.MetaInfo, verified) is null ? -1 : verified.SetCount;
    }

    private static string VerifiedSome(TempDirectory dir, TestBlob blob, int[] pieces)
    {
        var path = dir.Combine("blob");
        using var store = PieceStore.OpenForDownload(blob.MetaInfo, path, directIo: false);
        foreach (var piece in pieces)
        {
            store.Write(piece, 0, blob.Piece(piece));
            store.MarkVerified(piece);
        }

        return path;
    }
}

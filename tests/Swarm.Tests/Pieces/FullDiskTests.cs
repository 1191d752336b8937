using P2PRegistry.Hosting.Storage;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Pieces;

/// <summary>
/// The swarm's writes on a real file system that is full (a tmpfs the test fills; needs root): the failure is a full
/// disk any caller recognises, nothing of the attempt stays, and the same call succeeds once space is back.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class FullDiskTests
{
    [Fact]
    public async Task OpenForDownload_BlobBiggerThanTheFreeSpace_FailsAsDiskFull_LeavesNoFile_AndOpensOnceSpaceIsBack()
    {
        await using var disk = await TmpfsMount.CreateAsync(16, "swarm-full");
        var blob = TestBlob.Create(8 * 1024 * 1024, 256 * 1024);
        disk.Fill("ballast", disk.FreeBytes - 4L * 1024 * 1024);
        var path = disk.Combine("blob");

        var failure = Assert.ThrowsAny<IOException>(() => PieceStore.OpenForDownload(blob.MetaInfo, path));

        Assert.True(DiskFull.Is(failure), failure.ToString());
        Assert.Equal(["ballast"], Directory.GetFiles(disk.Path).Select(Path.GetFileName));

        File.Delete(disk.Combine("ballast"));
        using var store = PieceStore.OpenForDownload(blob.MetaInfo, path);
        store.Write(0, 0, blob.Piece(0));
        Assert.Equal(blob.MetaInfo.Length, new FileInfo(path).Length);
    }

    [Fact]
    public async Task WriteAtomically_OnAFullDisk_FailsAsDiskFull_KeepsTheOldRecord_AndLeavesNoTemp()
    {
        await using var disk = await TmpfsMount.CreateAsync(4, "durable-full");
        var path = disk.Combine("record");
        DurableFiles.WriteAtomically(path, "old"u8);
        disk.Fill("ballast");

        foreach (var uniqueTemp in new[] { false, true })
        {
            var failure = Assert.ThrowsAny<IOException>(() => DurableFiles.WriteAtomically(path, new byte[64 * 1024], uniqueTemp));
            Assert.True(DiskFull.Is(failure), failure.ToString());
        }

        var asynchronous = await Assert.ThrowsAnyAsync<IOException>(() => DurableFiles.WriteAtomicallyAsync(path, new byte[64 * 1024], CancellationToken.None));
        Assert.True(DiskFull.Is(asynchronous), asynchronous.ToString());
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["ballast", "record"], Directory.GetFiles(disk.Path).Select(Path.GetFileName).Order());

        File.Delete(disk.Combine("ballast"));
        DurableFiles.WriteAtomically(path, "new"u8);
        Assert.Equal("new", File.ReadAllText(path));
    }
}

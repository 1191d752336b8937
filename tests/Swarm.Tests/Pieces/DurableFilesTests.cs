using System.Text;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Pieces;

/// <summary>
/// The one atomic write of the project (resume files, MetaInfos, the origin's links, the agent's manifests and
/// hosts.toml): a reader sees the old content or the new, a temp file a crash left is never read, and a write that
/// fails leaves no temp file behind.
/// </summary>
public sealed class DurableFilesTests
{
    [Fact]
    public void WriteAtomically_ReplacesTheWholeFile_AndLeavesNoTemp()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("record");
        File.WriteAllText(path, "an old record that is longer than the new one");

        DurableFiles.WriteAtomically(path, "new"u8);

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["record"], Names(dir));
    }

    [Fact]
    public void WriteAtomically_TornTempLeftByACrash_IsIgnoredThenReplaced()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("record");
        File.WriteAllText(path, "old");
        File.WriteAllText(path + DurableFiles.TempSuffix, "ne"); // a crash between the write and the rename

        Assert.Equal("old", File.ReadAllText(path)); // the name still holds the old record whole

        DurableFiles.WriteAtomically(path, "new"u8);

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["record"], Names(dir));
    }

    [Fact]
    public void WriteAtomically_CreatesTheMissingDirectory()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("a", "b", "record");

        DurableFiles.WriteAtomically(path, "new"u8, uniqueTemp: true);

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["record"], Directory.EnumerateFileSystemEntries(dir.Combine("a", "b")).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WriteAtomically_RenameFails_NoTempLeft(bool uniqueTemp)
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("record");
        Directory.CreateDirectory(path); // a file cannot be renamed over a directory

        var ex = Record.Exception(() => DurableFiles.WriteAtomically(path, "new"u8, uniqueTemp));

        Assert.True(ex is IOException or UnauthorizedAccessException, $"unexpected {ex}");
        Assert.Equal(["record"], Names(dir));
        Assert.True(Directory.Exists(path));
    }

    [Fact]
    public async Task WriteAtomicallyAsync_RenameFails_NoTempLeft()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("record");
        Directory.CreateDirectory(path);

        var ex = await Record.ExceptionAsync(() => DurableFiles.WriteAtomicallyAsync(path, "new"u8.ToArray(), CancellationToken.None));

        Assert.True(ex is IOException or UnauthorizedAccessException, $"unexpected {ex}");
        Assert.Equal(["record"], Names(dir));
    }

    [Fact]
    public async Task WriteAtomicallyAsync_ConcurrentWriters_OneWholeContentWinsAndNoTempLeft()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("tag");
        var contents = Enumerable.Range(0, 8).Select(i => new string((char)('a' + i), 4096 + i)).ToArray();

        await Task.WhenAll(contents.Select(c => Task.Run(() => DurableFiles.WriteAtomicallyAsync(path, Encoding.ASCII.GetBytes(c), CancellationToken.None))));

        Assert.Contains(File.ReadAllText(path), contents);
        Assert.Equal(["tag"], Names(dir));
    }

    private static IEnumerable<string?> Names(TempDirectory dir) =>
        Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal);
}

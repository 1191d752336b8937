using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// Writes that survive a crash or a power cut. A file's bytes are on the disk only once the file is flushed (fsync);
/// a new name (a create, a rename, a delete) only once its directory is flushed too. A small record replaced whole is
/// written to a temp file beside it, flushed, renamed over the old one and the directory flushed: after a crash the
/// name holds either the old record or the new one, never a torn mix (POSIX rename is atomic).
/// </summary>
public static partial class DurableFiles
{
    /// <summary>The suffix of the temp file <see cref="WriteAtomically"/> writes before the rename.</summary>
    public const string TempSuffix = ".tmp";

    private const int ReadOnly = 0;
    private const int Directory = 0x10000;
    private const int CloseOnExec = 0x80000;

    /// <summary>Flushes the file's data and metadata to the disk (fsync).</summary>
    public static void Flush(SafeFileHandle file) => RandomAccess.FlushToDisk(file);

    /// <summary>Flushes the file at <paramref name="path"/> to the disk (opened for this).</summary>
    public static void Flush(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.FlushToDisk(file);
    }

    /// <summary>
    /// Flushes the directory <paramref name="directory"/>: the names created, renamed or deleted in it are on the disk
    /// from now on. .NET cannot open a directory as a file, so this is open(O_DIRECTORY) and fsync; a no-op off Linux.
    /// </summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Open(directory, ReadOnly | Directory | CloseOnExec);
        if (fd < 0)
        {
            throw new IOException($"Cannot open the directory {directory} to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"Cannot flush the directory {directory} (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Replaces the file at <paramref name="path"/> whole with <paramref name="content"/> (its directory is created if
    /// missing): written to a temp file beside it, flushed, renamed over it, the directory flushed. After a crash the
    /// name holds the old content or the new, never a torn mix; a temp file left by a crash is never read (the next
    /// write replaces or sidesteps it). On failure the temp file is removed. The temp name is
    /// <c>path</c> + <see cref="TempSuffix"/> for a file with one writer at a time (so its owner can find a leftover), or
    /// a unique name ending in <see cref="TempSuffix"/> when <paramref name="uniqueTemp"/> is set, for files that
    /// concurrent writers may replace at once.
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content, bool uniqueTemp = false)
    {
        var temp = CreateTemp(path, uniqueTemp, out var file);
        try
        {
            using (file)
            {
                RandomAccess.Write(file, content, 0);
                RandomAccess.FlushToDisk(file);
            }

            Replace(temp, path);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// <see cref="WriteAtomically"/> with an asynchronous write; always with a unique temp name (for concurrent
    /// writers of the same file).
    /// </summary>
    public static async Task WriteAtomicallyAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var temp = CreateTemp(path, uniqueTemp: true, out var file);
        try
        {
            using (file)
            {
                await RandomAccess.WriteAsync(file, content, 0, cancellationToken).ConfigureAwait(false);
                RandomAccess.FlushToDisk(file);
            }

            Replace(temp, path);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Deletes <paramref name="path"/> if it can: a missing or undeletable file is left as it is.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Moves a complete file to <paramref name="target"/> durably: its bytes are flushed before the rename, and the
    /// target's directory after it (a crash never leaves the new name with bytes that were not on the disk yet).
    /// </summary>
    public static void MoveDurably(string source, string target, bool overwrite)
    {
        Flush(source);
        File.Move(source, target, overwrite);
        FlushDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
    }

    private static string CreateTemp(string path, bool uniqueTemp, out SafeFileHandle file)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = uniqueTemp ? $"{path}.{Guid.NewGuid():N}{TempSuffix}" : path + TempSuffix;
        file = File.OpenHandle(temp, uniqueTemp ? FileMode.CreateNew : FileMode.Create, FileAccess.Write, FileShare.None);
        return temp;
    }

    private static void Replace(string temp, string path)
    {
        File.Move(temp, path, overwrite: true);
        FlushDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

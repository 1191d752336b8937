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
    /// Replaces the file at <paramref name="path"/> with <paramref name="content"/> atomically and durably: temp file,
    /// fsync, rename over <paramref name="path"/>, fsync of the directory. A temp file a crash left is overwritten.
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var temp = path + TempSuffix;
        using (var file = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(file, content, 0);
            RandomAccess.FlushToDisk(file);
        }

        File.Move(temp, path, overwrite: true);
        FlushDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
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

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

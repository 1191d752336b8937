namespace P2PRegistry.Hosting.Storage;

/// <summary>
/// Recognises "no space left" among I/O errors: the origin answers it 507, the agent a fast miss, instead of as a crash.
/// </summary>
public static class DiskFull
{
    // Linux errno ENOSPC and EDQUOT (.NET carries the raw errno as the HResult of an IOException on Unix);
    // Windows ERROR_HANDLE_DISK_FULL and ERROR_DISK_FULL.
    private const int Enospc = 28;
    private const int Edquot = 122;
    private const int ErrorHandleDiskFull = unchecked((int)0x80070027);
    private const int ErrorDiskFull = unchecked((int)0x80070070);

    /// <summary>Below this much free space an I/O error while writing the store counts as a full disk.</summary>
    private const long NearlyFull = 1024 * 1024;

    /// <summary>
    /// Whether <paramref name="exception"/> (or an inner one) is a full disk. A failed preallocation
    /// (<c>File.OpenHandle(…, preallocationSize)</c>) throws a plain IOException without the errno, so an I/O error
    /// also counts when the file system of <paramref name="storagePath"/> has (nearly) no space left, or less than the
    /// <paramref name="neededBytes"/> the failed write asked for (the preallocation of a whole blob).
    /// </summary>
    public static bool Is(Exception? exception, string? storagePath = null, long neededBytes = 0)
    {
        var io = false;
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is IOException { HResult: Enospc or Edquot or ErrorHandleDiskFull or ErrorDiskFull })
            {
                return true;
            }

            io |= ex is IOException;
        }

        return io && storagePath is not null && FreeBytes(storagePath) < Math.Max(NearlyFull, neededBytes);
    }

    /// <summary>
    /// The I/O error of a full disk, with the errno a caller further up recognises without knowing the path: for a
    /// failed preallocation (which carries none) once <see cref="Is"/> said it was one.
    /// </summary>
    public static IOException NoSpace(string message, Exception? inner = null) => new(message, inner) { HResult = Enospc };

    private static long FreeBytes(string path)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(path)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return long.MaxValue;
        }
    }
}

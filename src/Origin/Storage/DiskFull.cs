namespace P2PRegistry.Origin.Storage;

/// <summary>Recognises "no space left" among I/O errors, which the registry answers 507 instead of as a crash.</summary>
internal static class DiskFull
{
    // Linux errno ENOSPC and EDQUOT (.NET carries the raw errno as the HResult of an IOException on Unix);
    // Windows ERROR_HANDLE_DISK_FULL and ERROR_DISK_FULL.
    private const int Enospc = 28;
    private const int Edquot = 122;
    private const int ErrorHandleDiskFull = unchecked((int)0x80070027);
    private const int ErrorDiskFull = unchecked((int)0x80070070);

    public static bool Is(Exception? exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is IOException { HResult: Enospc or Edquot or ErrorHandleDiskFull or ErrorDiskFull })
            {
                return true;
            }
        }

        return false;
    }
}

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// Asks the kernel to start reading a range of a file into the page cache now (Linux <c>posix_fadvise</c>,
/// <c>POSIX_FADV_WILLNEED</c>), so a reader that goes through a file front to back finds its next bytes read already.
/// A download's file was written with direct I/O, so none of it is cached when a streaming reader falls behind the
/// download: the kernel's own read-ahead then reads it 128–256 KiB at a time, one request after the other (about
/// 300 MB/s on the disk this was measured on, against about 900 MB/s with many megabytes asked for at once). Only for
/// a complete file (a range that is still being written directly must not be read through the page cache). A hint:
/// where it is not available (not Linux, not a 64-bit process, a libc without it) or refused, nothing happens.
/// </summary>
/// <remarks>
/// The P/Invoke declares <c>off_t</c> as 64 bits, which it is only in a 64-bit process (linux-x64, linux-arm64: the
/// RIDs <c>deploy/docker/publish.sh</c> ships). In a 32-bit process glibc's <c>posix_fadvise</c> takes a 32-bit
/// <c>off_t</c>, so the call would pass garbage: there it is never made.
/// </remarks>
public static partial class ReadAhead
{
    private const int WillNeed = 3;
    private static volatile bool s_unavailable = !IsSupported(OperatingSystem.IsLinux(), Environment.Is64BitProcess);

    /// <summary>Whether the call is made at all: on Linux, in a 64-bit process (where <c>off_t</c> is the declared <see cref="long"/>).</summary>
    internal static bool IsSupported(bool linux, bool is64BitProcess) => linux && is64BitProcess;

    /// <summary>Starts reading [<paramref name="offset"/>, +<paramref name="length"/>) of the file into the page cache.</summary>
    public static void Advise(SafeFileHandle file, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (s_unavailable || length <= 0 || offset < 0 || file.IsInvalid || file.IsClosed)
        {
            return;
        }

        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            _ = Fadvise((int)file.DangerousGetHandle(), offset, length, WillNeed);
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile: nothing to read ahead for.
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    // off_t is 64 bits only in a 64-bit process: see the remarks; never called in a 32-bit one.
    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int Fadvise(int fd, long offset, long length, int advice);
}

using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.FileSystem;

/// <summary>
/// A small real file system that fills up: <c>mount -t tmpfs -o size=&lt;n&gt;m tmpfs /tmp/&lt;prefix&gt;-&lt;id&gt;</c> (needs root).
/// Dispose unmounts it (lazily if something still holds a file open) and removes the mount point, so a test that
/// fails half way leaves no mount behind. <see cref="FreeBytes"/> reads what is left.
/// </summary>
public sealed class TmpfsMount : IAsyncDisposable
{
    private TmpfsMount(string path, long sizeBytes)
    {
        Path = path;
        SizeBytes = sizeBytes;
    }

    public string Path { get; }

    public long SizeBytes { get; }

    /// <summary>Bytes still free for an unprivileged writer.</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    public static async Task<TmpfsMount> CreateAsync(int sizeMiB, string prefix = "tmpfs")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sizeMiB, 1);
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}");
        Directory.CreateDirectory(path);
        try
        {
            await ProcessRunner.RunOrThrowAsync("mount", ["-t", "tmpfs", "-o", $"size={sizeMiB}m,mode=0755", "tmpfs", path], TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch
        {
            Directory.Delete(path);
            throw;
        }

        return new TmpfsMount(path, sizeMiB * 1024L * 1024);
    }

    /// <summary>The path of <paramref name="relative"/> inside the mount (not created).</summary>
    public string Combine(params string[] relative) => System.IO.Path.Combine([Path, .. relative]);

    /// <summary>Writes zeros to <paramref name="name"/> until the file system is full (or <paramref name="maxBytes"/>); returns the bytes written.</summary>
    public long Fill(string name, long maxBytes = long.MaxValue)
    {
        var buffer = new byte[64 * 1024];
        long written = 0;
        using var file = new FileStream(Combine(name), FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (written < maxBytes)
            {
                var count = (int)Math.Min(buffer.Length, maxBytes - written);
                file.Write(buffer, 0, count);
                written += count;
            }
        }
        catch (IOException)
        {
            // Full: tmpfs accepts whole pages only, so the last partial write is what failed.
        }

        return written;
    }

    public async ValueTask DisposeAsync()
    {
        var result = await ProcessRunner.RunAsync("umount", [Path], TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            // Busy (a process still holds a file): detach now, the kernel frees it when the last file closes.
            await ProcessRunner.RunOrThrowAsync("umount", ["-l", Path], TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }

        Directory.Delete(Path);
    }

    public override string ToString() => Path;
}

using Microsoft.Win32.SafeHandles;

namespace P2PRegistry.Harness.Lab;

/// <summary>
/// Starts every client at the same moment. Clients block in <c>read &lt;fifo</c>; the harness holds the only
/// writer (opened read-write, which never blocks on Linux), waits until every client's shell has the FIFO open,
/// then closes its end: all readers see end-of-file together. A late reader cannot deadlock because
/// <see cref="ReleaseAsync"/> only closes once all are waiting.
/// </summary>
internal sealed class StartBarrier : IDisposable
{
    private SafeFileHandle? _writer;

    private StartBarrier(string path, SafeFileHandle writer)
    {
        Path = path;
        _writer = writer;
    }

    public string Path { get; }

    public static async Task<StartBarrier> CreateAsync(string path, CancellationToken cancellationToken)
    {
        await Shell.CheckAsync("mkfifo", [path], cancellationToken).ConfigureAwait(false);
        return new StartBarrier(path, File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite));
    }

    /// <summary>Waits until every PID has the FIFO open, then releases them; returns the release time (Unix seconds).</summary>
    public async Task<double> ReleaseAsync(IReadOnlyList<int> pids, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var full = System.IO.Path.GetFullPath(Path);
        while (!pids.All(pid => HasOpen(pid, full)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not every client reached the start barrier within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        var released = UnixNow();
        Dispose();
        return released;
    }

    public static double UnixNow() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

    private static bool HasOpen(int pid, string fifo)
    {
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                if (new FileInfo(fd).LinkTarget == fifo)
                {
                    return true;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return false;
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _writer = null;
    }
}

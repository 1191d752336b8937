using Microsoft.Extensions.Hosting;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Collection;

/// <summary>
/// The running origin holds <c>&lt;storage&gt;/origin.lock</c> exclusively (<see cref="FileShare.None"/> is an
/// advisory <c>flock</c> on Linux), so the <c>gc</c> subcommand refuses to remove anything from a store an origin
/// serves: only the origin's own collector knows which pushes are in progress.
/// </summary>
internal sealed class StorageLock : IHostedLifecycleService, IDisposable
{
    public const string FileName = "origin.lock";

    private readonly StorageLayout _layout;
    private FileStream? _held;

    public StorageLock(StorageLayout layout) => _layout = layout;

    /// <summary>Opens the lock file exclusively; null when another process holds it.</summary>
    public static FileStream? TryAcquire(string root)
    {
        Directory.CreateDirectory(root);
        try
        {
            return new FileStream(Path.Combine(root, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _held = TryAcquire(_layout.Root)
            ?? throw new InvalidOperationException($"storage '{_layout.Root}' is locked by another process (another origin, or the gc subcommand): {FileName}");
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => Interlocked.Exchange(ref _held, null)?.Dispose();
}

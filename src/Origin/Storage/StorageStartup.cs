using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Uploads;

namespace P2PRegistry.Origin.Storage;

/// <summary>
/// Prepares the store before the server accepts requests (<see cref="IHostedLifecycleService.StartingAsync"/>
/// runs after options validation and before Kestrel starts): creates the folders and wipes leftover uploads.
/// </summary>
internal sealed class StorageStartup : IHostedLifecycleService
{
    private readonly StorageLayout _layout;
    private readonly UploadManager _uploads;
    private readonly ILogger<StorageStartup> _logger;

    public StorageStartup(StorageLayout layout, UploadManager uploads, ILogger<StorageStartup> logger)
    {
        _layout = layout;
        _uploads = uploads;
        _logger = logger;
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_layout.Blobs);
        Directory.CreateDirectory(_layout.Repositories);
        var removed = _uploads.RemoveLeftovers();
        if (removed > 0)
        {
            OriginLog.LeftoverUploadsRemoved(_logger, removed);
        }

        OriginLog.StorageReady(_logger, _layout.Root);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using P2PRegistry.Origin.Configuration;

namespace P2PRegistry.Origin.Uploads;

/// <summary>Sweeps idle upload sessions (a client that started a push and vanished) on a timer.</summary>
internal sealed class UploadExpiryService : BackgroundService
{
    private readonly UploadManager _uploads;
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;

    public UploadExpiryService(UploadManager uploads, TimeProvider time, IOptions<OriginOptions> options)
    {
        _uploads = uploads;
        _time = time;
        // A quarter of the expiry keeps a session's lifetime within 25% of the setting, at most once a minute.
        _period = TimeSpan.FromTicks(Math.Clamp(options.Value.UploadExpiry.Ticks / 4, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerMinute));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_period, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                _uploads.ExpireIdle();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

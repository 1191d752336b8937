using P2PRegistry.Tracker.Diagnostics;

namespace P2PRegistry.Tracker.Peers;

/// <summary>Drops expired peers of swarms nobody announces to any more (announces prune their own swarm).</summary>
internal sealed class PeerSweeper(
    IPeerStore peerStore,
    PeerStoreOptions storeOptions,
    TimeSpan sweepInterval,
    TimeProvider time,
    TrackerMetrics metrics,
    ILogger<PeerSweeper> logger) : BackgroundService
{
    private PeriodicTimer? _timer;

    // The timer starts with the host, not whenever the background task gets scheduled (ExecuteAsync runs on the
    // thread pool), so the first sweep is due exactly one interval after start.
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _timer = new PeriodicTimer(sweepInterval, time);
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timer = _timer ?? throw new InvalidOperationException("Started without StartAsync.");
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var dropped = await peerStore.SweepAsync(stoppingToken).ConfigureAwait(false);
                    if (dropped > 0)
                    {
                        metrics.PeersExpired(dropped);
                        logger.PeersExpired(dropped, storeOptions.PeerTtl);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A store that failed once (e.g. Redis away) may work at the next tick.
                    logger.SweepFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

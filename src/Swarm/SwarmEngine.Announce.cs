using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Swarm;

public sealed partial class SwarmEngine
{
    /// <summary>A swarm with its announce loop.</summary>
    private sealed class SwarmEntry
    {
        private readonly SwarmEngine _engine;
        private readonly CancellationTokenSource _stop;
        private readonly SemaphoreSlim _announceNow = new(0, 1);
        private Task _loop = Task.CompletedTask;
        private int _stopped;

        public SwarmEntry(SwarmEngine engine, BlobSwarm swarm)
        {
            _engine = engine;
            Swarm = swarm;
            Handle = new DownloadHandle(swarm);
            _stop = CancellationTokenSource.CreateLinkedTokenSource(engine._stopping.Token);
        }

        public BlobSwarm Swarm { get; }

        public DownloadHandle Handle { get; }

        public void Start() => _loop = Task.Run(() => AnnounceLoopAsync(_stop.Token));

        public void AnnounceNow()
        {
            try
            {
                if (_announceNow.CurrentCount == 0)
                {
                    _announceNow.Release();
                }
            }
            catch (Exception exception) when (exception is SemaphoreFullException or ObjectDisposedException)
            {
            }
        }

        public async Task StopAsync(bool announce)
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0)
            {
                return;
            }

            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            Swarm.Dispose();
            if (announce)
            {
                await _engine.AnnounceAsync(Swarm, AnnounceEvent.Stopped, CancellationToken.None).ConfigureAwait(false);
            }

            _stop.Dispose();
        }

        private async Task AnnounceLoopAsync(CancellationToken cancellationToken)
        {
            var options = _engine._context.Options;
            var announceEvent = AnnounceEvent.Started;
            var wasDownloading = Swarm.IsDownloading;
            while (!cancellationToken.IsCancellationRequested)
            {
                if (wasDownloading && Swarm.IsComplete)
                {
                    announceEvent = AnnounceEvent.Completed;
                    wasDownloading = false;
                }

                var result = await _engine.AnnounceAsync(Swarm, announceEvent, cancellationToken).ConfigureAwait(false);
                var interval = Swarm.IsDownloading ? options.DownloadAnnounceInterval : options.SeedAnnounceInterval;
                if (result is not null)
                {
                    announceEvent = AnnounceEvent.None;
                    if (!Swarm.IsDownloading && result.Interval > interval)
                    {
                        interval = result.Interval;
                    }

                    if (Swarm.IsDownloading)
                    {
                        _engine.DialPeers(Swarm, result.Peers);
                    }
                }
                else
                {
                    // The tracker failed: retry soon, whatever the state.
                    interval = options.DownloadAnnounceInterval;
                }

                // Sleep for the interval, or less when the download completes (announce "completed" at once).
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var signal = _announceNow.WaitAsync(wake.Token);
                var sleep = Task.Delay(interval, _engine._context.Time, wake.Token);
                await Task.WhenAny(signal, sleep).ConfigureAwait(false);
                await wake.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>One announce, bounded by the tracker timeout; null when the tracker failed (logged, never thrown).</summary>
    private async Task<AnnounceResult?> AnnounceAsync(BlobSwarm swarm, AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_context.Options.TrackerTimeout);
        try
        {
            var left = swarm.IsComplete ? 0 : swarm.MetaInfo.Length - ((long)swarm.Store.VerifiedCount * swarm.MetaInfo.PieceLength);
            var result = await _tracker.AnnounceAsync(
                swarm.InfoHash,
                swarm.MetaInfo.Digest,
                _context.PeerId,
                _context.ListenPort,
                swarm.IsComplete,
                Math.Max(0, left),
                announceEvent,
                timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
            SwarmLog.Announced(_logger, swarm.InfoHash, announceEvent.ToString(), result.Peers.Count, result.Interval);
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception exception)
        {
            // Whatever the tracker does (throws, hangs, answers garbage) must not take the swarm down.
            SwarmLog.AnnounceFailed(_logger, swarm.InfoHash, exception is OperationCanceledException ? "timed out" : exception.Message);
            return null;
        }
    }
}

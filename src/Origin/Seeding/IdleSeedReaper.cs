using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Swarm;

namespace P2PRegistry.Origin.Seeding;

/// <summary>
/// Closes the swarms opened on demand once nothing was uploaded from them for <see cref="PeerOptions.IdleSeedTimeout"/>:
/// an origin that has served thousands of blobs over a week must not hold thousands of open files. A peer that
/// comes back later simply reopens the swarm with its handshake.
/// </summary>
internal sealed class IdleSeedReaper : BackgroundService
{
    private readonly ConcurrentDictionary<InfoHash, (long Uploaded, DateTimeOffset Since)> _open = new();
    private readonly SwarmEngine _engine;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;

    public IdleSeedReaper(SwarmEngine engine, IOptions<OriginOptions> options, TimeProvider time)
    {
        _engine = engine;
        _time = time;
        _timeout = options.Value.Peer.IdleSeedTimeout;
    }

    /// <summary>Called when a swarm is opened on demand.</summary>
    public void Opened(InfoHash infoHash) => _open[infoHash] = (0, _time.GetUtcNow());

    /// <summary>One sweep: stops every swarm whose upload counter has not moved for the timeout.</summary>
    public async Task SweepAsync()
    {
        var now = _time.GetUtcNow();
        foreach (var (infoHash, last) in _open)
        {
            var uploaded = _engine.GetStatistics(infoHash)?.BytesUploaded;
            if (uploaded is null)
            {
                _open.TryRemove(infoHash, out _);
            }
            else if (uploaded != last.Uploaded)
            {
                _open[infoHash] = (uploaded.Value, now);
            }
            else if (now - last.Since >= _timeout)
            {
                _open.TryRemove(infoHash, out _);
                await _engine.StopAsync(infoHash).ConfigureAwait(false);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Sweep a few times per timeout, so a swarm lives at most ~1.25 × the timeout once idle.
        using var timer = new PeriodicTimer(_timeout / 4, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await SweepAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

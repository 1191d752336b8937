using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent;

/// <summary>
/// Once the listeners are bound (the peer port's listener has told the engine its real port, which it
/// announces): removes the partial downloads nobody will resume, seeds the cached blobs again (announced, their swarms
/// opened only when a peer asks: <see cref="MetaInfoShelf.SeedCachedBlobs"/>), and checks them in the
/// background (<see cref="CacheVerifier"/>; reads and the seeds check them piece by piece meanwhile). At stop: the
/// check ends, the fetcher and the engine leave their swarms.
/// </summary>
internal sealed class AgentStartup(
    IHostApplicationLifetime lifetime,
    SwarmEngine engine,
    BlobFetcher fetcher,
    PartialDownloads partialDownloads,
    MetaInfoShelf shelf,
    CacheVerifier verifier,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<AgentStartup> logger) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _verification = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the peer port opens: a peer that asks for a cached blob whose swarm is closed gets it opened.
        engine.SeedResolver = shelf.Resolve;
        var startedAt = time.GetUtcNow();
        lifetime.ApplicationStarted.Register(() =>
        {
            partialDownloads.Sweep(startedAt);
            shelf.SeedCachedBlobs();
            if (options.Value.VerifyCacheInBackground)
            {
                _verification = Task.Run(() => verifier.RunAsync(_stopping.Token));
            }

            var settings = options.Value;
            AgentLog.Started(logger, settings.RegistryUrl, $"{settings.PeerAddress}:{engine.ListenPort}", string.Join(",", settings.EffectiveTrackerUrls), settings.OriginUrl, Path.GetFullPath(settings.DataPath));
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _verification.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped halfway: the next start checks again anyway.
        }

        verifier.Dispose();
        await fetcher.DisposeAsync().ConfigureAwait(false);
        shelf.Dispose();
        await engine.DisposeAsync().ConfigureAwait(false);
    }
}

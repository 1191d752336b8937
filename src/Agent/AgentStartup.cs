using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent;

/// <summary>
/// Once the listeners are bound (the peer port's listener has told the engine its real port, which it
/// announces): removes the partial downloads nobody will resume and seeds the cached blobs again. At stop: the
/// fetcher and the engine leave their swarms.
/// </summary>
internal sealed class AgentStartup(
    IHostApplicationLifetime lifetime,
    SwarmEngine engine,
    BlobFetcher fetcher,
    PartialDownloads partialDownloads,
    MetaInfoShelf shelf,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<AgentStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        lifetime.ApplicationStarted.Register(() =>
        {
            partialDownloads.Sweep(startedAt);
            shelf.SeedCachedBlobs();
            var settings = options.Value;
            AgentLog.Started(logger, settings.RegistryUrl, $"{settings.PeerAddress}:{engine.ListenPort}", settings.TrackerUrl, settings.OriginUrl, Path.GetFullPath(settings.DataPath));
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await fetcher.DisposeAsync().ConfigureAwait(false);
        shelf.Dispose();
        await engine.DisposeAsync().ConfigureAwait(false);
    }
}

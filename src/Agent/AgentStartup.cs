using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent;

/// <summary>
/// Once the listeners are bound: tells the engine its real peer port (announced to the tracker) and seeds
/// the cached blobs again. At stop: the fetcher and the engine leave their swarms.
/// </summary>
internal sealed class AgentStartup(
    IHostApplicationLifetime lifetime,
    SwarmEngine engine,
    BlobFetcher fetcher,
    AgentApp.PeerListener peers,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<AgentStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        lifetime.ApplicationStarted.Register(() =>
        {
            engine.ListenPort = peers.BoundPort;
            fetcher.SweepDownloads(startedAt);
            fetcher.SeedCachedBlobs();
            var settings = options.Value;
            AgentLog.Started(logger, settings.RegistryUrl, $"{settings.PeerAddress}:{peers.BoundPort}", settings.TrackerUrl, settings.OriginUrl, Path.GetFullPath(settings.DataPath));
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await fetcher.DisposeAsync().ConfigureAwait(false);
        await engine.DisposeAsync().ConfigureAwait(false);
    }
}

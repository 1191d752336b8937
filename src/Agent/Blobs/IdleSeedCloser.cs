using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Swarm;

namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// Closes the swarms of cached blobs that had no traffic for <see cref="AgentOptions.IdleSeedTimeout"/>
/// (<see cref="SwarmEngine.CloseIdleSeeds"/>): they stay announced as seeds and reopen when a peer handshakes for them
/// (<see cref="MetaInfoShelf.Resolve"/>), so an agent holding thousands of cached blobs keeps only the busy ones open.
/// Looks four times per timeout: a swarm closes between 1 and 1.25 timeouts after its last byte.
/// </summary>
internal sealed class IdleSeedCloser(SwarmEngine engine, IOptions<AgentOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timeout = options.Value.IdleSeedTimeout;
        using var timer = new PeriodicTimer(timeout / 4, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                engine.CloseIdleSeeds(timeout);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // The engine stopped first (host stop): nothing is left to close.
        }
    }
}

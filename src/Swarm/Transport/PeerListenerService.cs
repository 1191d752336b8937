using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace P2PRegistry.Swarm.Transport;

/// <summary>
/// Opens the peer port when the host starts (a port that cannot be had fails the start, with the address in the
/// message) and tells the engine the bound port, which is what it announces. Closes the port when the host stops.
/// </summary>
internal sealed class PeerListenerService(PeerSocketListener listener, SwarmEngine engine, Func<IPEndPoint> endPoint, ILogger<PeerListenerService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var bound = listener.Start(endPoint());
        engine.ListenPort = bound.Port;
        TransportLog.Listening(logger, bound);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => listener.StopAsync(cancellationToken);
}

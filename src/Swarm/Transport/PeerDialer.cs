using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace P2PRegistry.Swarm.Transport;

/// <summary>
/// Dials peers: a TCP connect bounded by the connect timeout, then Kestrel's socket transport wraps the
/// socket in the same kind of <see cref="System.IO.Pipelines.IDuplexPipe"/> an inbound connection has.
/// </summary>
internal sealed class PeerDialer : IDisposable
{
    private readonly SocketConnectionContextFactory _factory;

    public PeerDialer(ILoggerFactory loggerFactory)
    {
        _factory = new SocketConnectionContextFactory(PeerSocketOptions.Apply(new SocketConnectionFactoryOptions()), loggerFactory.CreateLogger<PeerDialer>());
    }

    public async Task<ConnectionContext> ConnectAsync(IPEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connectTimeout.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(endPoint, connectTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"No connection to {endPoint} within {timeout}.");
            }

            return _factory.Create(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _factory.Dispose();
}

using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Swarm.Transport;

/// <summary>
/// Dials peers: a TCP connect bounded by the connect timeout, then the same <see cref="PeerSocketConnection"/>
/// an inbound connection gets, so both directions run the same session code.
/// </summary>
internal static class PeerDialer
{
    public static async Task<PeerSocketConnection> ConnectAsync(IPEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
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

            var connection = new PeerSocketConnection(socket);
            connection.Start();
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

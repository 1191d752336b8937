using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Swarm.Transport;

/// <summary>
/// Dials peers: a TCP connect bounded by the connect timeout, then the same <see cref="PeerSocketConnection"/>
/// an inbound connection gets, so both directions run the same session code.
/// </summary>
internal static class PeerDialer
{
    /// <summary>Dials <paramref name="endPoint"/>, then, with <paramref name="tls"/>, runs the TLS handshake within the same timeout.</summary>
    public static async Task<IPeerConnection> ConnectAsync(IPEndPoint endPoint, TimeSpan timeout, PeerTls? tls, CancellationToken cancellationToken)
    {
        if (tls is null)
        {
            return await ConnectAsync(endPoint, timeout, cancellationToken).ConfigureAwait(false);
        }

        var socket = await ConnectSocketAsync(endPoint, timeout, cancellationToken).ConfigureAwait(false);
        var connection = new PeerTlsConnection(socket);
        try
        {
            await connection.AuthenticateAsClientAsync(tls.ClientOptions(endPoint), timeout, cancellationToken).ConfigureAwait(false);
            connection.Start();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static async Task<PeerSocketConnection> ConnectAsync(IPEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = await ConnectSocketAsync(endPoint, timeout, cancellationToken).ConfigureAwait(false);
        var connection = new PeerSocketConnection(socket);
        connection.Start();
        return connection;
    }

    private static async Task<Socket> ConnectSocketAsync(IPEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
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

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

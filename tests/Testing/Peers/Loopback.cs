using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Testing.Peers;

/// <summary>The kit only ever touches 127.0.0.x: Linux routes all of 127/8 to lo, so each x is a distinct peer address.</summary>
public static class Loopback
{
    /// <summary>127.0.0.<paramref name="x"/>.</summary>
    public static IPAddress Address(byte x) => new([127, 0, 0, x]);

    /// <summary>Throws unless <paramref name="address"/> is 127.0.0.x.</summary>
    public static IPAddress Check(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetwork || address.GetAddressBytes() is not [127, 0, 0, _])
        {
            throw new ArgumentException($"The peer kit works on 127.0.0.x only, not {address}.", nameof(address));
        }

        return address;
    }

    /// <summary>A connected TCP socket to <paramref name="remote"/>, its local end bound to <paramref name="localAddress"/> when given.</summary>
    public static async Task<Socket> ConnectAsync(IPEndPoint remote, IPAddress? localAddress, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        Check(remote.Address);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (localAddress is not null)
            {
                socket.Bind(new IPEndPoint(Check(localAddress), 0));
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            await socket.ConnectAsync(remote, deadline.Token);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace P2PRegistry.Swarm.Transport;

/// <summary>
/// Socket settings for peer connections, dialled and accepted alike. A peer connection carries blocks the whole
/// time it is busy, so each receive goes straight into a buffer instead of first waiting for data with a
/// zero-byte read: half the receive calls, for a few KiB of buffer held per connection.
/// </summary>
public static class PeerSocketOptions
{
    public static SocketConnectionFactoryOptions Apply(SocketConnectionFactoryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.WaitForDataBeforeAllocatingBuffer = false;
        return options;
    }

    public static SocketTransportOptions Apply(SocketTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.WaitForDataBeforeAllocatingBuffer = false;
        return options;
    }
}

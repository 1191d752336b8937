using System.Net;
using System.Net.Sockets;
using P2PRegistry.Testing.Peers;

namespace P2PRegistry.Testing.Http;

/// <summary>
/// HTTP clients (and gRPC channels, which take an <see cref="HttpMessageHandler"/>) whose connections come from a
/// chosen 127.0.0.x: to a server each x is another host, so a test can play several clients, an attacker among them.
/// </summary>
public static class SourceAddressHandler
{
    /// <summary>A handler whose every connection is bound to <paramref name="source"/> (127.0.0.x) before it dials.</summary>
    public static SocketsHttpHandler Create(IPAddress source)
    {
        Loopback.Check(source);
        return new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(30),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var addresses = context.DnsEndPoint.Host == "localhost"
                    ? [IPAddress.Loopback]
                    : new[] { IPAddress.Parse(context.DnsEndPoint.Host.Trim('[', ']')) };
                var socket = await Loopback.ConnectAsync(new IPEndPoint(addresses[0], context.DnsEndPoint.Port), source, TimeSpan.FromSeconds(30), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
    }

    /// <summary>An <see cref="HttpClient"/> for <paramref name="baseAddress"/> whose requests come from <paramref name="source"/>.</summary>
    public static HttpClient Client(IPAddress source, Uri baseAddress) =>
        new(Create(source)) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
}

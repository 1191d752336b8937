using System.Net;
using System.Net.Security;

namespace P2PRegistry.Swarm.Transport;

/// <summary>
/// TLS on the peer port (<c>Swarm:Tls</c>), between our own engines only: a standard BitTorrent client cannot speak
/// it. The host builds the options per connection (the certificate may have been reloaded since the last one); both
/// sides present a certificate and verify the other's.
/// </summary>
public sealed class PeerTls(Func<SslServerAuthenticationOptions> server, Func<IPEndPoint, SslClientAuthenticationOptions> client)
{
    internal SslServerAuthenticationOptions ServerOptions() => server();

    internal SslClientAuthenticationOptions ClientOptions(IPEndPoint peer) => client(peer);
}

using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Origin.Upstream;

/// <summary>
/// The connections of one upstream's <see cref="HttpClient"/>. The upstream's own host and its trusted token realms
/// are dialled wherever they resolve (the operator configured them). Any other host — a redirect target, an
/// untrusted realm — is dialled only at addresses outside loopback, link-local, private and the like, unless the
/// upstream sets <c>AllowPrivateRedirects</c>. The check is on the addresses DNS returns at connect time and the
/// socket dials exactly those, so a name that resolves (or re-resolves, DNS rebinding) to 127.0.0.1 or
/// 169.254.169.254 is refused whatever its text says. One handler per upstream: a pooled connection is only
/// ever reused under the same upstream's rules.
/// </summary>
internal static class UpstreamConnector
{
    public static SocketsHttpHandler CreateHandler(UpstreamRegistry upstream, TimeSpan connectTimeout) => new()
    {
        // UpstreamClient follows redirects itself, so that a CDN never sees the registry token and every hop is checked.
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = connectTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectCallback = (context, cancellationToken) => ConnectAsync(upstream, context, cancellationToken),
    };

    private static async ValueTask<Stream> ConnectAsync(UpstreamRegistry upstream, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endPoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endPoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endPoint.Host, cancellationToken).ConfigureAwait(false);
        // A connection to another host than the request names is one to the HTTP proxy the environment configures
        // (HTTPS_PROXY …): the operator chose it, and it — not this check — decides where the request goes from there.
        var viaProxy = context.InitialRequestMessage.RequestUri is { } requested
            && !string.Equals(requested.IdnHost.Trim('[', ']'), endPoint.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);
        var mayBeInternal = viaProxy || upstream.AllowPrivateRedirects || upstream.IsTrustedHost(endPoint.Host, endPoint.Port);
        var allowed = mayBeInternal ? addresses : Array.FindAll(addresses, a => !IsInternal(a));
        if (allowed.Length == 0)
        {
            throw new InternalAddressRefusedException(endPoint.Host, endPoint.Port, addresses);
        }

        SocketException? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }

    /// <summary>
    /// Loopback, unspecified, "this network" (0/8), link-local (169.254/16 — cloud metadata — and fe80::/10),
    /// private (RFC 1918, fc00::/7, fec0::/10), shared CGNAT space (100.64/10), multicast and broadcast.
    /// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
    /// </summary>
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] is 0 or 10 or >= 224
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && (b[1] & 0xF0) == 16)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 100 && (b[1] & 0xC0) == 64);
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            return address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any)
                || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xFE) == 0xFC;
        }

        return true;
    }
}

/// <summary>A connection the upstream rules forbid: the host resolved only to internal addresses.</summary>
internal sealed class InternalAddressRefusedException(string host, int port, IPAddress[] addresses)
    : IOException($"refused to connect to {host}:{port}: it resolves to {(addresses.Length == 0 ? "no address" : string.Join(", ", addresses.Take(4).Select(a => a.ToString())))}, " +
        "an internal (loopback, link-local or private) address; set AllowPrivateRedirects for this upstream to allow it")
{
}

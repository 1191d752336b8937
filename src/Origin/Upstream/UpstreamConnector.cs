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
    /// <param name="proxy">The HTTP proxy; by default the one the environment configures (HTTPS_PROXY …), if any.</param>
    public static SocketsHttpHandler CreateHandler(UpstreamRegistry upstream, TimeSpan connectTimeout, IWebProxy? proxy = null)
    {
        // The handler is given the proxy it uses, so that the connect check below asks the very same object.
        proxy ??= HttpClient.DefaultProxy;
        return new()
        {
            // UpstreamClient follows redirects itself, so that a CDN never sees the registry token and every hop is checked.
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = true,
            Proxy = proxy,
            ConnectTimeout = connectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectCallback = (context, cancellationToken) => ConnectAsync(upstream, proxy, context, cancellationToken),
        };
    }

    /// <summary>
    /// Whether this connection is the one to the HTTP proxy configured for the request: the proxy the handler uses for
    /// that URI (not bypassed) names exactly the host and port being dialled. A host that merely differs from the
    /// request's is no proxy; without one configured every connection is judged by its own addresses.
    /// </summary>
    internal static bool IsProxyConnection(IWebProxy proxy, Uri? requested, DnsEndPoint endPoint)
    {
        if (requested is null || proxy.IsBypassed(requested) || proxy.GetProxy(requested) is not { } proxyUri)
        {
            return false;
        }

        return proxyUri.Port == endPoint.Port
            && string.Equals(proxyUri.IdnHost.Trim('[', ']'), endPoint.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);
    }

    private static async ValueTask<Stream> ConnectAsync(UpstreamRegistry upstream, IWebProxy proxy, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endPoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endPoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endPoint.Host, cancellationToken).ConfigureAwait(false);
        // The connection to the configured HTTP proxy (HTTPS_PROXY …) may be internal: the operator chose it, and it —
        // not this check — decides where the request goes from there.
        var viaProxy = IsProxyConnection(proxy, context.InitialRequestMessage.RequestUri, endPoint);
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
    /// private (RFC 1918, fc00::/7, fec0::/10), shared CGNAT space (100.64/10), IETF protocol assignments
    /// (192.0.0/24), benchmarking (198.18/15), multicast and broadcast. IPv6 forms that carry an IPv4 address —
    /// IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) — are judged
    /// as the IPv4 address they carry.
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
            Span<byte> v4 = stackalloc byte[4];
            address.TryWriteBytes(v4, out _);
            return IsInternalV4(v4);
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            if (address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any)
                || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xFE) == 0xFC)
            {
                return true;
            }

            // NAT64 well-known prefix 64:ff9b::/96 and IPv4-compatible ::/96: the IPv4 address is the last 4 bytes.
            ReadOnlySpan<byte> nat64 = [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0];
            if (b[..12].SequenceEqual(nat64) || b[..12].IndexOfAnyExcept((byte)0) < 0)
            {
                return IsInternalV4(b[12..]);
            }

            // 6to4 2002:V4ADDR::/48: the IPv4 address is bytes 2-5.
            if (b[0] == 0x20 && b[1] == 0x02)
            {
                return IsInternalV4(b[2..6]);
            }

            return false;
        }

        return true;
    }

    private static bool IsInternalV4(ReadOnlySpan<byte> b) =>
        b[0] is 0 or 10 or 127 or >= 224
        || (b[0] == 169 && b[1] == 254)
        || (b[0] == 172 && (b[1] & 0xF0) == 16)
        || (b[0] == 192 && b[1] == 168)
        || (b[0] == 192 && b[1] == 0 && b[2] == 0)
        || (b[0] == 198 && (b[1] & 0xFE) == 18)
        || (b[0] == 100 && (b[1] & 0xC0) == 64);
}

/// <summary>A connection the upstream rules forbid: the host resolved only to internal addresses.</summary>
internal sealed class InternalAddressRefusedException(string host, int port, IPAddress[] addresses)
    : IOException($"refused to connect to {host}:{port}: it resolves to {(addresses.Length == 0 ? "no address" : string.Join(", ", addresses.Take(4).Select(a => a.ToString())))}, " +
        "an internal (loopback, link-local or private) address; set AllowPrivateRedirects for this upstream to allow it")
{
}

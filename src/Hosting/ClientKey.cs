using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Hosting;

/// <summary>
/// The key under which every per-client limit counts a client (failed push credentials, upload sessions, the tracker's
/// per-address quotas): an IPv4 address, mapped or not, as itself; an IPv6 address by its /64 — one host usually holds a
/// whole /64 and could otherwise take a fresh address for each request and pass every limit.
/// </summary>
public static class ClientKey
{
    public static IPAddress Of(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}

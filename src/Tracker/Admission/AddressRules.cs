using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Tracker.Admission;

/// <summary>Facts about addresses the announce checks share.</summary>
internal static class AddressRules
{
    /// <summary>IPv4-mapped IPv6 (a dual-stack socket's view of an IPv4 peer) as plain IPv4, so rules and stores compare alike.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public static bool IsInAny(IReadOnlyList<IPNetwork> networks, IPAddress address)
    {
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// An address no other host can dial it at: unspecified (0.0.0.0, ::), multicast (224.0.0.0/4, ff00::/8), the IPv4
    /// limited broadcast, and the "this network" block 0.0.0.0/8. Loopback is judged separately (fine between
    /// processes of the tracker's own host).
    /// </summary>
    public static bool IsNeverDialable(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> bytes = stackalloc byte[4];
            address.TryWriteBytes(bytes, out _);
            return bytes[0] == 0 || bytes[0] >= 224 || address.Equals(IPAddress.Broadcast);
        }

        return address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None) || address.IsIPv6Multicast;
    }
}

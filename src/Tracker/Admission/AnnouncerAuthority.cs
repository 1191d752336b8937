using System.Net;
using System.Security.Cryptography.X509Certificates;
using P2PRegistry.Hosting.Security;

namespace P2PRegistry.Tracker.Admission;

/// <summary>
/// An origin is an announcer whose client certificate carries the origin role (a URI SAN <c>urn:p2pregistry:role:origin</c>, <see cref="ClusterRoles"/>; the TLS handshake verified its chain) or
/// whose source address is in <c>Tracker:OriginNetworks</c>; everyone else is an agent, whatever role it claims.
/// </summary>
internal sealed class AnnouncerAuthority(IReadOnlyList<IPNetwork> originNetworks) : IAnnouncerAuthority
{
    public AnnouncerIdentity Identify(IPAddress source, X509Certificate2? clientCertificate)
    {
        source = AddressRules.Normalize(source);
        var isOrigin = ClusterRoles.Of(clientCertificate) == ClusterRole.Origin
            || AddressRules.IsInAny(originNetworks, source);
        return new AnnouncerIdentity(source, isOrigin);
    }
}

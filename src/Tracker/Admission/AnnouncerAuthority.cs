using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace P2PRegistry.Tracker.Admission;

/// <summary>
/// An origin is an announcer whose client certificate carries the origin role (<see cref="OriginCertificate"/>) or
/// whose source address is in <c>Tracker:OriginNetworks</c>; everyone else is an agent, whatever role it claims.
/// </summary>
internal sealed class AnnouncerAuthority(IReadOnlyList<IPNetwork> originNetworks) : IAnnouncerAuthority
{
    public AnnouncerIdentity Identify(IPAddress source, X509Certificate2? clientCertificate)
    {
        source = AddressRules.Normalize(source);
        var isOrigin = (clientCertificate is not null && OriginCertificate.HasOriginRole(clientCertificate))
            || AddressRules.IsInAny(originNetworks, source);
        return new AnnouncerIdentity(source, isOrigin);
    }
}

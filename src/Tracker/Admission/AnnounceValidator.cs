using System.Diagnostics.CodeAnalysis;
using System.Net;
using P2PRegistry.Core.Placement;
using P2PRegistry.Tracker.Announcing;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Admission;

/// <summary>
/// The checks every announce passes before it touches the peer store, whichever transport it came by. Pure: what
/// it decides depends only on the claim, the identity and the trusted networks. (Whether the info hash is known
/// and whether the peer id belongs to this address need state: <see cref="AnnounceService"/> and the store.)
/// </summary>
internal sealed class AnnounceValidator(IReadOnlyList<IPNetwork> trustedProxyNetworks)
{
    public bool TryValidate(
        AnnounceClaim claim,
        AnnouncerIdentity identity,
        [NotNullWhen(true)] out AnnounceCommand? command,
        out AnnounceRefusal refusal,
        [NotNullWhen(false)] out string? reason)
    {
        command = null;
        refusal = default;

        // The address is the connection's; an ip= naming another only from a proxy the operator trusts. BEP 3 lets a
        // client name its address, but believing that lets anyone list any endpoint (a DDoS amplifier and a way to
        // hand downloaders to an attacker's peers).
        var address = identity.Source;
        if (claim.ClaimedAddress is { } claimed)
        {
            claimed = AddressRules.Normalize(claimed);
            if (!claimed.Equals(identity.Source) && !AddressRules.IsInAny(trustedProxyNetworks, identity.Source))
            {
                refusal = AnnounceRefusal.UntrustedIp;
                reason = $"ip {claimed} is not the address the announce came from; only trusted proxies may name another";
                return false;
            }

            address = claimed;
        }

        // Never hand out an address nobody can dial; loopback only between processes of the tracker's own host.
        if (AddressRules.IsNeverDialable(address) || (IPAddress.IsLoopback(address) && !identity.IsLocal))
        {
            refusal = AnnounceRefusal.UnroutableAddress;
            reason = $"address {address} cannot be dialled by other peers";
            return false;
        }

        if (claim.ClaimedRole == PeerRole.Origin && !identity.IsOrigin)
        {
            refusal = AnnounceRefusal.OriginNotAuthenticated;
            reason = "the origin role needs an origin's client certificate or an address in Tracker:OriginNetworks";
            return false;
        }

        // Labels are stored with the peer and compared on every handout of its swarm: only short, plain ones.
        if (TopologyLabel.Problem(claim.Locality.Zone) is { } zoneProblem)
        {
            refusal = AnnounceRefusal.InvalidLocality;
            reason = "zone " + zoneProblem;
            return false;
        }

        if (TopologyLabel.Problem(claim.Locality.Rack) is { } rackProblem)
        {
            refusal = AnnounceRefusal.InvalidLocality;
            reason = "rack " + rackProblem;
            return false;
        }

        command = new AnnounceCommand(
            claim.InfoHash,
            claim.PeerId,
            address,
            claim.Port,
            claim.ClaimedRole,
            // An origin holds every blob it announces.
            claim.Complete || claim.ClaimedRole == PeerRole.Origin,
            claim.BytesLeft,
            claim.Event,
            claim.NumWant)
        {
            Locality = claim.Locality,
        };
        reason = null;
        return true;
    }
}

using System.Net;
using P2PRegistry.Tracker.Admission;
using P2PRegistry.Tracker.Diagnostics;
using P2PRegistry.Tracker.Handout;
using P2PRegistry.Tracker.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Announcing;

/// <summary>
/// Checks an announce, records it in the peer store and chooses the peers handed back; shared by both transports,
/// so a check made here holds for BEP 3 clients and our own agents alike.
/// </summary>
internal sealed class AnnounceService(
    IPeerStore peerStore,
    PeerHandoutPolicy policy,
    PeerStoreOptions storeOptions,
    AnnounceValidator validator,
    MetaInfoService metaInfoService,
    MetaInfoCache metaInfos,
    bool loopbackQuotaExempt,
    Random random,
    TrackerMetrics metrics,
    ILogger<AnnounceService> logger)
{
    private const int MaxOriginRecords = 64;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<IPEndPoint, PeerRecord> _originRecords = new();

    public async ValueTask<AnnounceDecision> AnnounceAsync(AnnounceClaim claim, AnnouncerIdentity identity, string transport, CancellationToken cancellationToken)
    {
        if (!validator.TryValidate(claim, identity, out var command, out var refusal, out var reason))
        {
            return Refuse(refusal, reason, identity, transport);
        }

        // Swarms only for blobs the origin holds: otherwise anyone could run arbitrary swarms through this tracker and
        // fill it with them. A STOPPED needs no check: it never creates a swarm.
        // An origin seeds every blob, and processes on this host are the operator's: neither is held to per-address quotas.
        var quotaExempt = command.Role == PeerRole.Origin || (loopbackQuotaExempt && IPAddress.IsLoopback(command.Address));
        var record = new PeerRecord(command.PeerId, command.Address, command.Port, command.Role, command.Complete, command.BytesLeft, default)
        {
            Locality = command.Locality,
        };
        // Every replica origin of the blob (one, or R in a cluster of origins), best ranked first.
        var origins = command.Event != AnnounceEvent.Stopped ? metaInfos.OriginPeers(command.InfoHash) : [];
        var limit = policy.Limit(command.NumWant);
        PeerStoreAnnounceResult stored;
        try
        {
            if (command.Event != AnnounceEvent.Stopped && !await IsKnownAsync(claim, command, identity, cancellationToken).ConfigureAwait(false))
            {
                return Refuse(AnnounceRefusal.UnknownInfoHash, "unknown info_hash " + claim.InfoHash.ToHex(), identity, transport);
            }

            var candidates = policy.Candidates(limit, command.Locality, origins.Count);
            stored = await peerStore.AnnounceAsync(command.InfoHash, record, command.Event, cancellationToken, quotaExempt, candidates).ConfigureAwait(false);
        }
        catch (PeerStoreUnavailableException)
        {
            // The store logs and counts its own failures; the announcer hears at once and tries another tracker or later.
            return Refuse(AnnounceRefusal.StoreUnavailable, "the tracker's peer store is unavailable", identity, transport);
        }

        switch (stored.Outcome)
        {
            case PeerStoreOutcome.PeerIdOwnedElsewhere:
                return Refuse(AnnounceRefusal.PeerIdOwnedElsewhere, "peer_id is registered from another address", identity, transport);
            case PeerStoreOutcome.AddressQuota:
                return Refuse(AnnounceRefusal.AddressQuota, $"address {command.Address} holds its maximum of {storeOptions.MaxPeersPerAddress} peers", identity, transport);
            case PeerStoreOutcome.SwarmAddressQuota:
                return Refuse(AnnounceRefusal.SwarmAddressQuota, $"address {command.Address} holds its maximum of {storeOptions.MaxPeersPerAddressPerSwarm} peers in this swarm", identity, transport);
            case PeerStoreOutcome.TooManyPeers:
                return Refuse(AnnounceRefusal.TooManyPeers, "the tracker holds its maximum of peers", identity, transport);
            case PeerStoreOutcome.SwarmFull:
                logger.SwarmFull(command.InfoHash, storeOptions.MaxPeersPerSwarm, command.PeerId);
                break;
            case PeerStoreOutcome.TooManySwarms:
                logger.TooManySwarms(storeOptions.MaxSwarms, command.InfoHash);
                break;
        }

        metrics.Announce(command.Role, command.Event, transport, stored.Outcome);

        // The origins appended below take places of their own: the policy fills the others, so an origin never pushes
        // out a peer it chose (with locality, that is the share of remote peers that keeps zones connected). Their
        // records in the store (origins announce too) are left to the append, so each is counted once and placed last.
        var originPlaces = 0;
        for (var i = 0; i < origins.Count; i++)
        {
            originPlaces += IsAt(command, origins[i]) ? 0 : 1;
        }

        var excluded = origins.Count > 0 ? origins : null;
        var peers = stored.Peers.Count == 0
            ? stored.Peers
            : policy.Select(stored.Peers, command.PeerId, command.Address, command.Port, Math.Max(1, limit - originPlaces), random, command.Locality, excluded);
        if (originPlaces > 0)
        {
            if (policy.HandsOutOrigin(command.Locality, peers))
            {
                // A cluster's replicas in reverse: each call puts its origin last, so the best-ranked origin ends up last.
                for (var i = origins.Count - 1; i >= 0; i--)
                {
                    peers = WithOriginLast(peers, origins[i], command);
                }
            }
            else if (stored.Peers.Count > 0)
            {
                // No origin for this asker after all (a bridge of the origin's zone serves it): the places kept for
                // the origins go to peers. Rare (locality with a known origin zone, a remote asker), so a second pass.
                peers = policy.Select(stored.Peers, command.PeerId, command.Address, command.Port, limit, random, command.Locality, excluded);
            }
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.Announced(command.Event, command.Role, command.PeerId, command.Address.ToString(), command.Port, command.InfoHash, stored.Outcome, peers.Count);
        }

        return AnnounceDecision.Accepted(new AnnounceResult(peers, policy.IntervalFor(command.Complete), policy.MinInterval));
    }

    /// <summary>
    /// Known: its metainfo was fetched from the origin (remembered beyond the metainfo cache), it has a live swarm
    /// (which only a known info hash could have started), an authenticated origin announces it, or the announce names
    /// the blob's digest and the origin's metainfo for it has this info hash (our agents send the digest).
    /// </summary>
    private async ValueTask<bool> IsKnownAsync(AnnounceClaim claim, AnnounceCommand command, AnnouncerIdentity identity, CancellationToken cancellationToken)
    {
        if (metaInfoService.IsKnown(command.InfoHash) || await peerStore.HasSwarmAsync(command.InfoHash, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        if (command.Role == PeerRole.Origin && identity.IsOrigin)
        {
            metaInfoService.AddKnown(command.InfoHash);
            return true;
        }

        if (claim.Digest is { } digest)
        {
            try
            {
                // A miss is remembered briefly: announces naming unknown digests cost the origin one request per digest per period.
                var metaInfo = await metaInfoService.GetAsync(digest, null, cancellationToken, rememberMisses: true).ConfigureAwait(false);
                return metaInfo.InfoHash == command.InfoHash;
            }
            catch (MetaInfoException)
            {
                // Not found, or the origin unreachable: either way nothing vouches for this info hash now.
                return false;
            }
        }

        return false;
    }

    private AnnounceDecision Refuse(AnnounceRefusal refusal, string reason, AnnouncerIdentity identity, string transport)
    {
        metrics.AnnounceRefused(refusal, transport);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.AnnounceRefused(transport, identity.Source.ToString(), refusal, reason);
        }

        return AnnounceDecision.Refuse(refusal, reason);
    }

    /// <summary>
    /// Every handout of a swarm the origin seeds ends with the origin (origins last: the existing policy), unless
    /// the asker is that origin or it is already in the list; in a full list it takes the last place.
    /// </summary>
    private IReadOnlyList<PeerRecord> WithOriginLast(IReadOnlyList<PeerRecord> peers, IPEndPoint origin, AnnounceCommand command)
    {
        if (IsAt(command, origin))
        {
            return peers;
        }

        // Indexed loops, not LINQ: this runs on every announce of every swarm the origin seeds.
        for (var i = 0; i < peers.Count; i++)
        {
            if (peers[i].IsAt(origin.Address, origin.Port))
            {
                return peers;
            }
        }

        var limit = policy.Limit(command.NumWant);
        var list = new List<PeerRecord>(Math.Min(peers.Count + 1, limit));
        list.AddRange(peers.Take(limit));
        if (list.Count >= limit)
        {
            // Full: the last peer that is no origin makes room (a cluster's other replicas stay in the list).
            var room = list.FindLastIndex(p => p.Role != PeerRole.Origin);
            if (room < 0)
            {
                return peers;
            }

            list.RemoveAt(room);
        }

        list.Add(OriginRecord(origin));
        return list;
    }

    private static bool IsAt(AnnounceCommand command, IPEndPoint endPoint) => command.Port == endPoint.Port && command.Address.Equals(endPoint.Address);

    // The origin's record is the same for every handout: made once per endpoint and looked up by it (origins are
    // few; the map is bounded anyway, past it the record is made per call), rather than rebuilt with its SHA-1 peer
    // id on every announce.
    private PeerRecord OriginRecord(IPEndPoint origin)
    {
        if (_originRecords.TryGetValue(origin, out var record))
        {
            return record;
        }

        record = new PeerRecord(OriginPeerId(origin), origin.Address, origin.Port, PeerRole.Origin, Complete: true, BytesLeft: 0, LastSeen: default);
        if (_originRecords.Count < MaxOriginRecords)
        {
            _originRecords.TryAdd(origin, record);
        }

        return record;
    }

    /// <summary>
    /// The tracker never saw the origin's own peer id (it learnt the endpoint from a metainfo fetch), so it hands out
    /// a stable placeholder: <c>-P2PORG-</c> and 12 bytes of the endpoint's SHA-1. Peers do not check it (BEP 3 lets
    /// a peer's id differ from the tracker's), and compact answers (BEP 23) carry none.
    /// </summary>
    internal static PeerId OriginPeerId(IPEndPoint origin)
    {
        Span<byte> bytes = stackalloc byte[PeerId.Length];
        "-P2PORG-"u8.CopyTo(bytes);
        Span<byte> hash = stackalloc byte[20];
        System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.ASCII.GetBytes(origin.ToString()), hash);
        hash[..12].CopyTo(bytes[8..]);
        return new PeerId(bytes);
    }
}

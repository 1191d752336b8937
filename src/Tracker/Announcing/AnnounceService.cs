using P2PRegistry.Tracker.Diagnostics;
using P2PRegistry.Tracker.Handout;
using P2PRegistry.Tracker.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Announcing;

/// <summary>Records an announce in the peer store and chooses the peers handed back; shared by both transports.</summary>
internal sealed class AnnounceService(
    IPeerStore peerStore,
    PeerHandoutPolicy policy,
    PeerStoreOptions storeOptions,
    MetaInfoCache metaInfos,
    Random random,
    TrackerMetrics metrics,
    ILogger<AnnounceService> logger)
{
    public async ValueTask<AnnounceResult> AnnounceAsync(AnnounceCommand command, string transport, CancellationToken cancellationToken)
    {
        var record = new PeerRecord(command.PeerId, command.Address, command.Port, command.Role, command.Complete, command.BytesLeft, default);
        var stored = await peerStore.AnnounceAsync(command.InfoHash, record, command.Event, cancellationToken).ConfigureAwait(false);
        metrics.Announce(command.Role, command.Event, transport, stored.Outcome);
        switch (stored.Outcome)
        {
            case PeerStoreOutcome.SwarmFull:
                logger.SwarmFull(command.InfoHash, storeOptions.MaxPeersPerSwarm, command.PeerId);
                break;
            case PeerStoreOutcome.TooManySwarms:
                logger.TooManySwarms(storeOptions.MaxSwarms, command.InfoHash);
                break;
        }

        var peers = stored.Peers.Count == 0
            ? stored.Peers
            : policy.Select(stored.Peers, command.PeerId, command.Address, command.Port, command.NumWant, random);
        if (command.Event != AnnounceEvent.Stopped && metaInfos.TryGetOriginPeer(command.InfoHash, out var origin))
        {
            peers = WithOriginLast(peers, origin, command);
        }
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.Announced(command.Event, command.Role, command.PeerId, command.Address.ToString(), command.Port, command.InfoHash, stored.Outcome, peers.Count);
        }

        return new AnnounceResult(peers, policy.IntervalFor(command.Complete), policy.MinInterval);
    }

    /// <summary>
    /// Every handout of a swarm the origin seeds ends with the origin (origins last: the existing policy), unless
    /// the asker is that origin or it is already in the list; in a full list it takes the last place.
    /// </summary>
    private IReadOnlyList<PeerRecord> WithOriginLast(IReadOnlyList<PeerRecord> peers, System.Net.IPEndPoint origin, AnnounceCommand command)
    {
        if ((command.Port == origin.Port && command.Address.Equals(origin.Address)) || peers.Any(p => p.IsAt(origin.Address, origin.Port)))
        {
            return peers;
        }

        var limit = policy.Limit(command.NumWant);
        var list = new List<PeerRecord>(Math.Min(peers.Count + 1, limit));
        list.AddRange(peers.Take(limit - 1));
        list.Add(new PeerRecord(OriginPeerId(origin), origin.Address, origin.Port, PeerRole.Origin, Complete: true, BytesLeft: 0, LastSeen: default));
        return list;
    }

    /// <summary>
    /// The tracker never saw the origin's own peer id (it learnt the endpoint from a metainfo fetch), so it hands out
    /// a stable placeholder: <c>-P2PORG-</c> and 12 bytes of the endpoint's SHA-1. Peers do not check it (BEP 3 lets
    /// a peer's id differ from the tracker's), and compact answers (BEP 23) carry none.
    /// </summary>
    internal static PeerId OriginPeerId(System.Net.IPEndPoint origin)
    {
        Span<byte> bytes = stackalloc byte[PeerId.Length];
        "-P2PORG-"u8.CopyTo(bytes);
        Span<byte> hash = stackalloc byte[20];
        System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.ASCII.GetBytes(origin.ToString()), hash);
        hash[..12].CopyTo(bytes[8..]);
        return new PeerId(bytes);
    }
}

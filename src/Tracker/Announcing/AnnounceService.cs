using P2PRegistry.Tracker.Diagnostics;
using P2PRegistry.Tracker.Handout;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Announcing;

/// <summary>Records an announce in the peer store and chooses the peers handed back; shared by both transports.</summary>
internal sealed class AnnounceService(
    IPeerStore peerStore,
    PeerHandoutPolicy policy,
    PeerStoreOptions storeOptions,
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
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.Announced(command.Event, command.Role, command.PeerId, command.Address.ToString(), command.Port, command.InfoHash, stored.Outcome, peers.Count);
        }

        return new AnnounceResult(peers, policy.IntervalFor(command.Complete), policy.MinInterval);
    }
}

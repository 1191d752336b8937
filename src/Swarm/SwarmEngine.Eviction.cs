using System.Net;
using P2PRegistry.Swarm.Bandwidth;

namespace P2PRegistry.Swarm;

// Connection slots go to peers that use them: a new peer that finds a limit full takes the slot of a connected peer
// that never gave or took a block (the longest connected), or else of one idle for at least Swarm:IdlePeerEviction.
// Sessions that only send keep-alives cannot hold every slot, however fast they reconnect: they only ever take each
// other's slots, never the slot of a peer that is exchanging blocks. A dial of ours (we chose that peer) only takes the
// slot of a peer idle that long: it must not drop the peer it dialled a moment ago.
public sealed partial class SwarmEngine
{
    private bool TryAcquireOrEvict(BlobSwarm swarm, IPAddress? address, bool dialling, out ConnectionRefusal refusal)
    {
        if (_context.Connections.TryAcquire(swarm.InfoHash, address, out refusal))
        {
            return true;
        }

        if (!TryEvictIdlePeer(swarm, address, refusal, onlyIdle: dialling))
        {
            return false;
        }

        _context.Connections.AcquireReplacing(swarm.InfoHash, address);
        refusal = ConnectionRefusal.None;
        return true;
    }

    /// <summary>
    /// Closes a peer whose slot the refused connection can take: one that frees every limit it would pass (in its swarm
    /// when the swarm is full, from its address when the address is full). Claimed by closing it, so two connections
    /// never take the same slot; bounded retries when another took the chosen one first.
    /// </summary>
    private bool TryEvictIdlePeer(BlobSwarm swarm, IPAddress? address, ConnectionRefusal refusal, bool onlyIdle)
    {
        if (refusal is not (ConnectionRefusal.Total or ConnectionRefusal.PerSwarm or ConnectionRefusal.PerAddress))
        {
            return false;
        }

        var (_, swarmFull, addressFull) = _context.Connections.Exceeded(swarm.InfoHash, address);
        if (addressFull && address is null)
        {
            return false;
        }

        var from = addressFull ? address : null;
        for (var attempt = 0; attempt < 4; attempt++)
        {
            EvictionCandidate? victim = null;
            foreach (var candidate in swarmFull ? [swarm] : _swarms.Values.Select(static e => e.Swarm))
            {
                if (candidate.FindEvictionCandidate(_context.Options.IdlePeerEviction, from, onlyIdle) is { } found && (victim is null || found.IsBefore(victim)))
                {
                    victim = found;
                }
            }

            if (victim is not { Session: var session })
            {
                return false;
            }

            if (session.TryClose("dropped to make room for a new peer: it gave and took nothing"))
            {
                SwarmLog.IdlePeerEvicted(_logger, session.RemotePeerId, session.RemoteEndPoint, victim.NeverUseful ? "never" : "not",
                    _context.Time.GetElapsedTime(victim.Since), SwarmMetrics.ReasonTag(refusal));
                _context.Metrics.PeerEvicted();
                return true;
            }
        }

        return false;
    }
}

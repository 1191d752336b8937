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

    /// <summary>Closes the idlest peer whose slot the refused connection needs: in its swarm, from its address, or any.</summary>
    private bool TryEvictIdlePeer(BlobSwarm swarm, IPAddress? address, ConnectionRefusal refusal, bool onlyIdle)
    {
        if (refusal is not (ConnectionRefusal.Total or ConnectionRefusal.PerSwarm or ConnectionRefusal.PerAddress))
        {
            return false;
        }

        var from = refusal == ConnectionRefusal.PerAddress ? address : null;
        if (refusal == ConnectionRefusal.PerAddress && from is null)
        {
            return false;
        }

        EvictionCandidate? victim = null;
        foreach (var candidate in refusal == ConnectionRefusal.PerSwarm ? [swarm] : _swarms.Values.Select(static e => e.Swarm))
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

        SwarmLog.IdlePeerEvicted(_logger, session.RemotePeerId, session.RemoteEndPoint, victim.NeverUseful ? "never" : "not",
            _context.Time.GetElapsedTime(victim.Since), SwarmMetrics.ReasonTag(refusal));
        _context.Metrics.PeerEvicted();
        session.Close("dropped: neither gave nor took while a new peer waited for a connection slot");
        return true;
    }
}

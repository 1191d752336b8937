using System.Net;
using P2PRegistry.Swarm.Bandwidth;
using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

// Connection slots go to peers that use them: a new peer that finds a limit full takes the slot of the connected
// peer that neither gave nor took a block for longest (at least Swarm:IdlePeerEviction), so sessions that only send
// keep-alives cannot hold every slot.
public sealed partial class SwarmEngine
{
    private bool TryAcquireOrEvict(BlobSwarm swarm, IPAddress? address, out ConnectionRefusal refusal)
    {
        if (_context.Connections.TryAcquire(swarm.InfoHash, address, out refusal))
        {
            return true;
        }

        if (!TryEvictIdlePeer(swarm, address, refusal))
        {
            return false;
        }

        _context.Connections.AcquireReplacing(swarm.InfoHash, address);
        refusal = ConnectionRefusal.None;
        return true;
    }

    /// <summary>Closes the idlest peer whose slot the refused connection needs: in its swarm, from its address, or any.</summary>
    private bool TryEvictIdlePeer(BlobSwarm swarm, IPAddress? address, ConnectionRefusal refusal)
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

        (PeerSession Session, long LastUsefulAt)? idlest = null;
        foreach (var candidate in refusal == ConnectionRefusal.PerSwarm ? [swarm] : _swarms.Values.Select(static e => e.Swarm))
        {
            if (candidate.FindIdlePeer(_context.Options.IdlePeerEviction, from) is { } found
                && (idlest is null || found.LastUsefulAt < idlest.Value.LastUsefulAt))
            {
                idlest = found;
            }
        }

        if (idlest is not { Session: var session, LastUsefulAt: var lastUseful })
        {
            return false;
        }

        SwarmLog.IdlePeerEvicted(_logger, session.RemotePeerId, session.RemoteEndPoint, _context.Time.GetElapsedTime(lastUseful), SwarmMetrics.ReasonTag(refusal));
        _context.Metrics.PeerEvicted();
        session.Close("dropped: neither gave nor took while a new peer waited for a connection slot");
        return true;
    }
}

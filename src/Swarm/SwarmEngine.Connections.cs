using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Bandwidth;
using P2PRegistry.Swarm.Sessions;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Swarm;

public sealed partial class SwarmEngine
{
    private readonly HashSet<(InfoHash, IPEndPoint)> _dialling = [];

    /// <summary>
    /// Runs an inbound connection (from the peer port's listener) until it closes. <paramref name="handshaken"/> is
    /// called once the peer's handshake is taken and the connection counts as established (so the listener stops
    /// counting it as pending).
    /// </summary>
    internal async Task AcceptAsync(IDuplexPipe transport, EndPoint? remoteEndPoint, Action? handshaken, CancellationToken connectionClosed)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(connectionClosed, _stopping.Token);
        var address = (remoteEndPoint as IPEndPoint)?.Address;
        BlobSwarm? acquiredFor = null;
        var refusal = ConnectionRefusal.None;
        PeerSession? session = null;
        try
        {
            session = await PeerConnector.AcceptAsync(
                _context,
                infoHash =>
                {
                    var swarm = FindSwarm(infoHash) ?? OpenOnDemand(infoHash);
                    if (swarm is null)
                    {
                        return null;
                    }

                    if (!TryAcquireOrEvict(swarm, address, dialling: false, out refusal))
                    {
                        throw new PeerProtocolException($"Connection limit reached ({SwarmMetrics.ReasonTag(refusal)}).");
                    }

                    acquiredFor = swarm;
                    return swarm;
                },
                transport,
                remoteEndPoint,
                linked.Token).ConfigureAwait(false);
            handshaken?.Invoke();
            SwarmLog.PeerConnected(_logger, session.RemotePeerId, remoteEndPoint, acquiredFor!.InfoHash, "inbound");
            await session.RunAsync(linked.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is PeerProtocolException or TimeoutException or IOException or OperationCanceledException
            or ConnectionResetException or ConnectionAbortedException)
        {
            if (refusal != ConnectionRefusal.None)
            {
                _context.Metrics.ConnectionRefused(refusal);
                SwarmLog.InboundOverLimit(_logger, remoteEndPoint, SwarmMetrics.ReasonTag(refusal));
            }
            else
            {
                if (session is null && exception is TimeoutException)
                {
                    _context.Metrics.ConnectionRefused(ConnectionRefusal.HandshakeTimeout);
                }

                SwarmLog.InboundRefused(_logger, remoteEndPoint, exception.Message);
            }
        }
        finally
        {
            if (acquiredFor is not null)
            {
                _context.Connections.Release(acquiredFor.InfoHash, address);
            }
        }
    }

    /// <summary>Dials the peers an announce returned that this node is not yet connected to.</summary>
    private void DialPeers(BlobSwarm swarm, IReadOnlyList<TrackerPeer> peers)
    {
        foreach (var peer in peers.Take(_context.Options.AnnouncePeerCount))
        {
            if (IsSelf(peer.EndPoint) || peer.PeerId == _context.PeerId || swarm.IsBlacklisted(peer.EndPoint) || swarm.IsConnectedTo(peer.EndPoint, peer.PeerId))
            {
                continue;
            }

            lock (_dialling)
            {
                if (!_dialling.Add((swarm.InfoHash, peer.EndPoint)))
                {
                    continue;
                }
            }

            if (!TryAcquireOrEvict(swarm, peer.EndPoint.Address, dialling: true, out var refusal))
            {
                lock (_dialling)
                {
                    _dialling.Remove((swarm.InfoHash, peer.EndPoint));
                }

                // Another address may still fit; no other peer does when the swarm or the node is full.
                if (refusal == ConnectionRefusal.PerAddress)
                {
                    continue;
                }

                return;
            }

            Track(DialAsync(swarm, peer));
        }
    }

    private async Task DialAsync(BlobSwarm swarm, TrackerPeer peer)
    {
        var token = _stopping.Token;
        try
        {
            await Task.Yield();
            var connection = await Transport.PeerDialer.ConnectAsync(peer.EndPoint, _context.Options.ConnectTimeout, PeerTls, token).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var session = await PeerConnector.ConnectAsync(swarm, connection, peer.EndPoint, peer, token).ConfigureAwait(false);
                lock (_dialling)
                {
                    _dialling.Remove((swarm.InfoHash, peer.EndPoint));
                }

                SwarmLog.PeerConnected(_logger, session.RemotePeerId, peer.EndPoint, swarm.InfoHash, "outbound");
                await session.RunAsync(token).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is PeerProtocolException or TimeoutException or IOException or OperationCanceledException
            or System.Net.Sockets.SocketException or ConnectionResetException or ConnectionAbortedException or ObjectDisposedException)
        {
            SwarmLog.ConnectFailed(_logger, peer.EndPoint, exception.Message);
        }
        finally
        {
            lock (_dialling)
            {
                _dialling.Remove((swarm.InfoHash, peer.EndPoint));
            }

            _context.Connections.Release(swarm.InfoHash, peer.EndPoint.Address);
        }
    }
}

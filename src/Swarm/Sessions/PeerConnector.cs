using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Swarm.Sessions;

/// <summary>
/// The BEP 3 handshake on a fresh connection, inbound or dialled, bounded by a handshake timeout.
/// The dialler speaks first; the acceptor reads the info hash to find the swarm, then answers.
/// </summary>
internal static class PeerConnector
{
    /// <summary>Handshakes on a connection this node dialled for <paramref name="swarm"/>.</summary>
    public static async Task<PeerSession> ConnectAsync(BlobSwarm swarm, IDuplexPipe transport, EndPoint? remoteEndPoint, TrackerPeer? peer, CancellationToken cancellationToken)
    {
        var context = swarm.Context;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(context.Options.HandshakeTimeout);
        try
        {
            new Handshake(swarm.InfoHash, context.PeerId).Write(transport.Output);
            await transport.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
            var theirs = await ReadHandshakeAsync(transport.Input, timeout.Token).ConfigureAwait(false);
            if (theirs.InfoHash != swarm.InfoHash)
            {
                throw new PeerProtocolException($"Peer answered for info hash {theirs.InfoHash}, not {swarm.InfoHash}.");
            }

            CheckPeer(context, theirs.PeerId);
            return new PeerSession(swarm, context, swarm.MetaInfo, transport, theirs.PeerId, remoteEndPoint, peer?.EndPoint, peer?.IsOrigin ?? false, theirs.SupportsExtensionProtocol);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"No handshake from {remoteEndPoint} within {context.Options.HandshakeTimeout}.");
        }
    }

    /// <summary>
    /// Handshakes on an inbound connection: reads the peer's handshake, finds the swarm of its info hash
    /// (<paramref name="findSwarm"/>), and answers. Throws <see cref="PeerProtocolException"/> to refuse, and
    /// <see cref="TimeoutException"/> when the peer did not handshake within <see cref="SwarmOptions.InboundHandshakeTimeout"/>
    /// (shorter than a dialled connection's <see cref="SwarmOptions.HandshakeTimeout"/>: the dialler speaks first, at once).
    /// </summary>
    public static async Task<PeerSession> AcceptAsync(SwarmContext context, Func<InfoHash, BlobSwarm?> findSwarm, IDuplexPipe transport, EndPoint? remoteEndPoint, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(context.Options.InboundHandshakeTimeout);
        try
        {
            var theirs = await ReadHandshakeAsync(transport.Input, timeout.Token).ConfigureAwait(false);
            var swarm = findSwarm(theirs.InfoHash) ?? throw new PeerProtocolException($"No swarm for info hash {theirs.InfoHash} here.");
            CheckPeer(context, theirs.PeerId);
            new Handshake(swarm.InfoHash, context.PeerId).Write(transport.Output);
            await transport.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
            return new PeerSession(swarm, context, swarm.MetaInfo, transport, theirs.PeerId, remoteEndPoint, listenEndPoint: null, isOrigin: false, theirs.SupportsExtensionProtocol);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"No handshake from {remoteEndPoint} within {context.Options.InboundHandshakeTimeout}.");
        }
    }

    private static void CheckPeer(SwarmContext context, PeerId peerId)
    {
        if (peerId == context.PeerId)
        {
            throw new PeerProtocolException("Connected to itself.");
        }
    }

    private static async Task<Handshake> ReadHandshakeAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (Handshake.TryRead(ref buffer, out var handshake) == OperationStatus.Done)
            {
                // Whatever follows (the bitfield, often in the same segment) stays for the session.
                input.AdvanceTo(buffer.Start);
                return handshake;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                throw new PeerProtocolException("Connection closed during the handshake.");
            }
        }
    }
}

using P2PRegistry.Core.Pieces;
using P2PRegistry.Swarm.PiecePicking;
using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

// What this node asks of each peer while downloading: interest, the request pipeline, stalls. Under the lock.
internal sealed partial class BlobSwarm
{
    private Bitfield? _everyPiece;

    private void FillAllLocked()
    {
        foreach (var peer in _peers.Values)
        {
            FillRequests(peer);
        }
    }

    // With a zone of our own and PreferLocalPeers, every peer not known to be in our zone is remote; otherwise none is.
    private bool IsRemote(Peer peer) => !peer.IsLocal && Context.Options.PreferLocalPeers && Context.Options.Zone.Length > 0;

    /// <summary>
    /// The pieces this node may ask the peer for: what it showed, except that a download of byte ranges asks an origin
    /// for any piece. An origin is a complete seed of every blob it serves (the tracker says so), but it super-seeds: it
    /// shows each agent a few pieces, the least copied first, which a reader of one range may never be shown. The origin
    /// serves a request for any piece it holds.
    /// </summary>
    private Bitfield PiecesToAsk(Peer peer)
    {
        if (!peer.Session.IsOrigin || Picker is not { WantsAll: false })
        {
            return peer.Pieces;
        }

        if (_everyPiece is null)
        {
            _everyPiece = new Bitfield(MetaInfo.PieceCount);
            _everyPiece.SetAll();
        }

        return _everyPiece;
    }

    private bool IsSnubbed(Peer peer) => peer.SnubbedUntil != 0 && Context.Time.GetTimestamp() < peer.SnubbedUntil;

    /// <summary>Tops up the peer's request pipeline to its <see cref="Peer.RequestDepth"/> blocks.</summary>
    private void FillRequests(Peer peer)
    {
        if (Picker is not { } picker || !IsDownloading)
        {
            return;
        }

        if (!peer.AmInterested)
        {
            UpdateInterest(peer);
        }

        if (!peer.AmInterested || peer.PeerChoking || IsSnubbed(peer))
        {
            return;
        }

        // Top up in batches (a quarter of the pipeline at a time), not a request per arriving block: one
        // write carries many requests, and the peer's send loop serves them in one go.
        var outstanding = peer.Outstanding;
        var want = Math.Min(peer.RequestDepth - outstanding.Count, 512);
        if (want <= 0 || (outstanding.Count > 0 && want < Math.Max(1, peer.RequestDepth / 4)))
        {
            return;
        }

        Span<BlockRequest> picked = stackalloc BlockRequest[want];
        var count = picker.Pick(peer.Key, PiecesToAsk(peer), picked, origin: peer.Session.IsOrigin, remote: IsRemote(peer));
        if (count > 0 && outstanding.Count == 0)
        {
            // The stall clock starts when the peer is first given work.
            peer.LastBlockAt = Context.Time.GetTimestamp();
        }

        foreach (var request in picked[..count])
        {
            outstanding.Add(request);
            peer.Session.Send(new Outbound(OutboundKind.Request, request.Piece, request.Offset, request.Length));
        }

        if (count == 0 && outstanding.Count == 0 && !picker.IsEndgame)
        {
            UpdateInterest(peer);
        }
    }

    /// <summary>BEP 3 interested / not interested, from what the peer has that this node lacks.</summary>
    private void UpdateInterest(Peer peer)
    {
        var interesting = Picker is { } picker && IsDownloading && picker.IsInteresting(PiecesToAsk(peer));
        if (interesting != peer.AmInterested)
        {
            peer.AmInterested = interesting;
            peer.Session.Send(new Outbound(interesting ? OutboundKind.Interested : OutboundKind.NotInterested));
        }
    }

    /// <summary>Another peer delivered this block first (endgame): tell this one not to bother.</summary>
    private void Cancel(Peer peer, BlockRequest request)
    {
        if (peer.Outstanding.Remove(request))
        {
            peer.Session.Send(new Outbound(OutboundKind.Cancel, request.Piece, request.Offset, request.Length));
        }
    }

    /// <summary>Tells the picker when the peer started or stopped serving us (see <see cref="Peer.IsUnserved"/>).</summary>
    private void SyncServing(Peer peer)
    {
        var unserved = peer.Session.IsOrigin || peer.PeerChoking || IsSnubbed(peer);
        if (unserved == peer.IsUnserved)
        {
            return;
        }

        peer.IsUnserved = unserved;
        Picker?.SetServing(peer.Pieces, serving: !unserved, peer.IsLocal);
    }

    private void OnDownloadComplete(Peer peer)
    {
        peer.Outstanding.Clear();
        if (peer.AmInterested)
        {
            peer.AmInterested = false;
            peer.Session.Send(new Outbound(OutboundKind.NotInterested));
        }
    }

    /// <summary>
    /// Requests that brought no block for the stall timeout go back to the picker and the peer is asked for nothing
    /// for as long (it may be the only peer with the pieces, and only slow for a while). Only blocks that were asked
    /// of this peer count: a peer that answers with blocks nobody asked for holds no request hostage.
    /// </summary>
    private void CheckStall(Peer peer, long now)
    {
        if (peer.Outstanding.Count == 0 || Picker is null)
        {
            return;
        }

        var stalled = Context.Time.GetElapsedTime(peer.LastBlockAt, now);
        if (stalled < Context.Options.StallTimeout)
        {
            return;
        }

        SwarmLog.PeerStalled(Context.Logger, peer.Session.RemotePeerId, peer.Outstanding.Count, stalled);
        foreach (var request in peer.Outstanding)
        {
            peer.Session.Send(new Outbound(OutboundKind.Cancel, request.Piece, request.Offset, request.Length));
        }

        Picker.Release(peer.Key);
        peer.Outstanding.Clear();
        peer.SnubbedUntil = now + (long)(Context.Options.StallTimeout.TotalSeconds * Context.Time.TimestampFrequency);

        // What only it and an origin hold is asked of the origin meanwhile.
        SyncServing(peer);
        FillAllLocked();
    }

    // The pipeline holds about half a second of this peer's recent rate, within the configured bounds:
    // enough to keep a fast link busy across a round trip, not so much that a slow peer hoards blocks.
    private void AdaptRequestDepth(Peer peer, TimeSpan elapsed)
    {
        var bytes = peer.BytesSinceTick;
        peer.BytesSinceTick = 0;
        if (elapsed <= TimeSpan.Zero)
        {
            return;
        }

        var options = Context.Options;
        var target = Math.Clamp(bytes / elapsed.TotalSeconds * 0.5, options.MinRequestQueueBytes, options.MaxRequestQueueBytes);
        peer.RequestDepth = Math.Max(1, (int)(target / options.BlockSize));
    }
}

using System.Net;
using P2PRegistry.Swarm.PiecePicking;
using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

// What each peer asks of this node: choking (the ChokePolicy decides), its queued requests, the blocks sent.
internal sealed partial class BlobSwarm
{
    public void OnInterested(PeerSession session)
    {
        lock (_sync)
        {
            if (_peers.TryGetValue(session.Id, out var peer))
            {
                if (peer.SuperSeeded && SuperSeeder is not null)
                {
                    SuperSeeder.OnInterested(peer.Key, _revealScratch);
                    SendRevealsLocked(peer);
                }

                _choking.OnInterested(session.Id, _chokeScratch);
                ApplyChokeChangesLocked();
            }
        }
    }

    public void OnNotInterested(PeerSession session)
    {
        lock (_sync)
        {
            if (_peers.ContainsKey(session.Id))
            {
                _choking.OnNotInterested(session.Id, _chokeScratch);
                ApplyChokeChangesLocked();
                ReleaseHotPiecesIfIdleLocked();
            }
        }
    }

    /// <summary>
    /// BEP 3: requests from a choked peer are discarded, requests for pieces this node lacks ignored; at most
    /// <see cref="SwarmOptions.MaxQueuedRequestsPerPeer"/> wait per peer (cancelled ones included until the send loop
    /// reaches them), more are dropped.
    /// </summary>
    public void OnRequest(PeerSession session, BlockRequest request)
    {
        lock (_sync)
        {
            // A request already queued is not queued twice (a peer that asks again after a choke and unchoke race
            // would be sent the block twice).
            if (!_peers.TryGetValue(session.Id, out var peer) || _choking.IsChoking(peer.Key) || !Store.HasPiece(request.Piece)
                || peer.Uploads.Count >= Context.Options.MaxQueuedRequestsPerPeer || !peer.LiveUploads.Add(request))
            {
                return;
            }

            peer.Uploads.Enqueue(request);
        }

        session.WakeSender();
    }

    /// <summary>A cancel counts only when it matches a queued request; anything else costs one lookup.</summary>
    public void OnCancel(PeerSession session, BlockRequest request)
    {
        lock (_sync)
        {
            if (_peers.TryGetValue(session.Id, out var peer))
            {
                peer.LiveUploads.Remove(request);
            }
        }
    }

    public bool TryTakeUpload(PeerSession session, BlockRequest? sent, out BlockRequest next)
    {
        next = default;
        lock (_sync)
        {
            if (!_peers.TryGetValue(session.Id, out var peer))
            {
                return false;
            }

            if (sent is { } block)
            {
                OnBlockSentLocked(peer, block);
            }

            if (_choking.IsChoking(peer.Key))
            {
                ClearUploads(peer);
                return false;
            }

            while (peer.Uploads.TryDequeue(out var request))
            {
                if (peer.LiveUploads.Remove(request))
                {
                    next = request;
                    return true;
                }
            }

            return false;
        }
    }

    private void OnBlockSentLocked(Peer peer, BlockRequest block)
    {
        peer.LastUsefulAt = Context.Time.GetTimestamp();
        _choking.OnUploaded(peer.Key, block.Length);
        Statistics.AddUploaded(block.Length);
        Context.Metrics.BytesUploaded(block.Length, peer.Session.IsOrigin);
        if (peer.SuperSeeded)
        {
            OnSuperSeededBlockSentLocked(peer, block);
        }
    }

    public bool ReadBlock(BlockRequest block, Span<byte> destination) => Store.ReadExactly(block.Piece, block.Offset, destination);

    private static void ClearUploads(Peer peer)
    {
        peer.Uploads.Clear();
        peer.LiveUploads.Clear();
    }

    private void ApplyChokeChangesLocked()
    {
        foreach (var (key, choke) in _chokeScratch)
        {
            if (_peers.TryGetValue(key, out var peer))
            {
                if (choke)
                {
                    // BEP 3: a choked peer's pending requests are discarded.
                    ClearUploads(peer);
                }

                peer.Session.Send(new Outbound(choke ? Sessions.OutboundKind.Choke : Sessions.OutboundKind.Unchoke));
            }
        }

        _chokeScratch.Clear();
    }

    /// <summary>
    /// The connected peer to drop when a new peer waits for a connection slot (optionally only one from
    /// <paramref name="address"/>): first a peer that never gave or took a block and wants nothing either way, the
    /// longest connected; else the peer idle longest, if at least <paramref name="idleFor"/>. Null when every peer is of use. A new peer is of use within
    /// moments (it asks for or sends a block), so it is last in line among those that never were; with
    /// <paramref name="onlyIdle"/> a peer that never was must also have been connected <paramref name="idleFor"/>.
    /// </summary>
    public EvictionCandidate? FindEvictionCandidate(TimeSpan idleFor, IPAddress? address, bool onlyIdle)
    {
        var now = Context.Time.GetTimestamp();
        lock (_sync)
        {
            EvictionCandidate? best = null;
            foreach (var peer in _peers.Values)
            {
                if (peer.Session.CloseReason is not null || (address is not null && !address.Equals(peer.Session.RemoteAddress)))
                {
                    continue;
                }

                // A peer that wants something of us, or has something we want, is not useless yet: it waits for a slot.
                var neverUseful = peer.LastUsefulAt == peer.ConnectedAt && !peer.AmInterested && !_choking.IsInterested(peer.Key);
                if ((onlyIdle || !neverUseful) && Context.Time.GetElapsedTime(peer.LastUsefulAt, now) < idleFor)
                {
                    continue;
                }

                var candidate = new EvictionCandidate(peer.Session, neverUseful, peer.LastUsefulAt);
                if (best is null || candidate.IsBefore(best))
                {
                    best = candidate;
                }
            }

            return best;
        }
    }
}

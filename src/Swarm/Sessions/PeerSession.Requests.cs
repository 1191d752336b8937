using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Sessions;

// What this node asks of the peer. Every method here runs under the swarm's lock.
internal sealed partial class PeerSession
{
    /// <summary>Tops up the request pipeline to <see cref="RequestDepth"/> blocks.</summary>
    public void FillRequestsLocked()
    {
        var picker = _swarm.Picker;
        if (picker is null || !_swarm.IsDownloading || Key < 0)
        {
            return;
        }

        if (!AmInterested)
        {
            UpdateInterestLocked();
        }

        if (!AmInterested || PeerChoking || Snubbed)
        {
            return;
        }

        // Top up in batches (a quarter of the pipeline at a time), not a request per arriving block: one
        // write carries many requests, and the peer's send loop serves them in one go.
        var want = Math.Min(_requestDepth - _outstanding.Count, 512);
        if (want <= 0 || (_outstanding.Count > 0 && want < Math.Max(1, _requestDepth / 4)))
        {
            return;
        }

        Span<BlockRequest> picked = stackalloc BlockRequest[want];
        var count = picker.Pick(Key, PeerPieces, picked, origin: IsOrigin);
        if (count > 0 && _outstanding.Count == 0)
        {
            // The stall clock starts when the peer is first given work.
            _lastBlockAt = _context.Time.GetTimestamp();
        }

        foreach (var request in picked[..count])
        {
            _outstanding.Add(request);
            Enqueue(new Outbound(OutboundKind.Request, request.Piece, request.Offset, request.Length));
        }

        if (count == 0 && _outstanding.Count == 0 && !picker.IsEndgame)
        {
            UpdateInterestLocked();
        }
    }

    /// <summary>BEP 3 interested / not interested, from what the peer has that this node lacks.</summary>
    public void UpdateInterestLocked()
    {
        var interesting = _swarm.Picker is { } picker && _swarm.IsDownloading && picker.IsInteresting(PeerPieces);
        if (interesting != AmInterested)
        {
            AmInterested = interesting;
            Enqueue(new Outbound(interesting ? OutboundKind.Interested : OutboundKind.NotInterested));
        }
    }

    public void OnBlockArrivedLocked(int piece, int begin)
    {
        if (_snubbedUntil != 0)
        {
            _snubbedUntil = 0;
            SyncServingLocked();
        }

        _lastBlockAt = _context.Time.GetTimestamp();
        for (var i = 0; i < _outstanding.Count; i++)
        {
            if (_outstanding[i].Piece == piece && _outstanding[i].Offset == begin)
            {
                _outstanding.RemoveAt(i);
                break;
            }
        }
    }

    /// <summary>Another peer delivered this block first (endgame): tell this one not to bother.</summary>
    public void CancelLocked(BlockRequest request)
    {
        if (_outstanding.Remove(request))
        {
            Enqueue(new Outbound(OutboundKind.Cancel, request.Piece, request.Offset, request.Length));
        }
    }

    /// <summary>BEP 3: a choke discards every pending request; the blocks go back to the picker.</summary>
    /// <summary>Tells the picker when the peer started or stopped serving us (see <see cref="IsUnserved"/>).</summary>
    public void SyncServingLocked()
    {
        var unserved = IsOrigin || PeerChoking || Snubbed;
        if (unserved == IsUnserved)
        {
            return;
        }

        IsUnserved = unserved;
        _swarm.Picker?.SetServing(PeerPieces, serving: !unserved);
    }

    public void OnChokedLocked()
    {
        PeerChoking = true;
        SyncServingLocked();
        if (_outstanding.Count > 0)
        {
            _swarm.Picker?.Release(Key);
            _outstanding.Clear();
            _swarm.FillAllLockedInternal();
        }
    }

    public void OnUnchokedLocked()
    {
        PeerChoking = false;
        SyncServingLocked();
        FillRequestsLocked();
    }

    public void OnDownloadCompleteLocked()
    {
        _outstanding.Clear();
        if (AmInterested)
        {
            AmInterested = false;
            Enqueue(new Outbound(OutboundKind.NotInterested));
        }
    }

    private void CheckStallLocked(long now)
    {
        if (_outstanding.Count == 0 || _swarm.Picker is null)
        {
            return;
        }

        var stalled = _context.Time.GetElapsedTime(_lastBlockAt, now);
        if (stalled < _context.Options.StallTimeout)
        {
            return;
        }

        SwarmLog.PeerStalled(_context.Logger, RemotePeerId, _outstanding.Count, stalled);
        foreach (var request in _outstanding)
        {
            Enqueue(new Outbound(OutboundKind.Cancel, request.Piece, request.Offset, request.Length));
        }

        _swarm.Picker.Release(Key);
        _outstanding.Clear();
        _snubbedUntil = now + (long)(_context.Options.StallTimeout.TotalSeconds * _context.Time.TimestampFrequency);

        // What only it and an origin hold is asked of the origin meanwhile.
        SyncServingLocked();
        _swarm.FillAllLockedInternal();
    }

    // The pipeline holds about half a second of this peer's recent rate, within the configured bounds:
    // enough to keep a fast link busy across a round trip, not so much that a slow peer hoards blocks.
    private void AdaptRequestDepthLocked(TimeSpan elapsed)
    {
        var bytes = Interlocked.Exchange(ref _bytesSinceTick, 0);
        if (elapsed <= TimeSpan.Zero)
        {
            return;
        }

        var options = _context.Options;
        var target = Math.Clamp(bytes / elapsed.TotalSeconds * 0.5, options.MinRequestQueueBytes, options.MaxRequestQueueBytes);
        _requestDepth = Math.Max(1, (int)(target / options.BlockSize));
    }
}

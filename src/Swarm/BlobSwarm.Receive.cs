using System.Buffers;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.PiecePicking;
using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

// What the peer tells this node about itself: its pieces, whether it chokes us, whether it wants ours.
internal sealed partial class BlobSwarm
{
    /// <summary>
    /// Bitfields that do not add to the last, at most. A bitfield may replace the last: aria2c sends its own only once
    /// it has a piece, and then again instead of haves whenever the bitfield is no larger than they would be
    /// (DefaultBtInteractive::checkHave: 5 + bitfield bytes ≤ 9 × new pieces; for a blob of up to 32 pieces, at every
    /// piece). Such a bitfield, one that only adds pieces and no larger than the haves of the pieces it adds, is free,
    /// like those haves (at most one per piece). Any other (the same again, one that takes pieces away, or one that adds
    /// a piece to a large bitfield, which a cycle of take-away and add-one would repeat) costs us a scan: past this many
    /// the peer is cut.
    /// </summary>
    internal const int MaxBitfieldsPerPeer = 8;

    /// <summary>
    /// True when <paramref name="next"/> holds every piece of <paramref name="last"/> and enough more that the bitfield
    /// message (5 bytes + the bits) is no larger than a have (9 bytes) for each piece it adds: aria2c's own rule.
    /// </summary>
    private static bool AddsPieces(Bitfield last, Bitfield next)
    {
        var added = next.SetCount - last.SetCount;
        if (added <= 0 || 5L + next.WireLength > 9L * added)
        {
            return false;
        }

        var before = last.Words;
        var after = next.Words;
        for (var i = 0; i < before.Length; i++)
        {
            if ((before[i] & ~after[i]) != 0)
            {
                return false;
            }
        }

        return true;
    }

    public void OnChoke(PeerSession session)
    {
        lock (_sync)
        {
            if (!_peers.TryGetValue(session.Id, out var peer))
            {
                return;
            }

            // BEP 3: a choke discards every pending request; the blocks go back to the picker.
            peer.PeerChoking = true;
            SyncServing(peer);
            if (peer.Outstanding.Count > 0)
            {
                Picker?.Release(peer.Key);
                peer.Outstanding.Clear();
                FillAllLocked();
            }
        }
    }

    public void OnUnchoke(PeerSession session)
    {
        lock (_sync)
        {
            if (_peers.TryGetValue(session.Id, out var peer))
            {
                peer.PeerChoking = false;
                SyncServing(peer);
                FillRequests(peer);
            }
        }
    }

    public void OnHave(PeerSession session, int piece)
    {
        lock (_sync)
        {
            if (!_peers.TryGetValue(session.Id, out var peer) || !peer.Pieces.Set(piece))
            {
                return;
            }

            Picker?.AddAvailability(piece, peer.IsUnserved, peer.IsLocal);
            if (peer.IsLocal)
            {
                Picker?.OnLocalHave(peer.Key, piece);
            }

            OnPeerHaveLocked(peer, piece);
            if (Picker is not { } picker || !IsDownloading || picker.Has(piece) || !picker.IsWanted(piece))
            {
                // Nothing new to ask this peer for: every peer's have of every piece lands here.
                return;
            }

            if (!peer.AmInterested)
            {
                peer.AmInterested = true;
                session.Send(new Outbound(OutboundKind.Interested));
            }

            FillRequests(peer);
        }
    }

    /// <remarks>
    /// BEP 3 wants the bitfield as the first message, but aria2c sends its extension handshake and <c>interested</c>
    /// first, and its bitfield only once it has a piece. A later bitfield therefore replaces what the peer was known to
    /// have. A malformed one closes the session before anything changes (its availability is removed once, when it
    /// leaves).
    /// </remarks>
    public void OnBitfield(PeerSession session, in ReadOnlySequence<byte> bits)
    {
        // Checked before anything changes (the peer's availability must be removed exactly once).
        var incoming = new Bitfield(MetaInfo.PieceCount);
        if (!incoming.TryReadFrom(bits, out var error))
        {
            throw PeerProtocolException.InvalidBitfield(error ?? "malformed");
        }

        bool bothComplete;
        lock (_sync)
        {
            if (!_peers.TryGetValue(session.Id, out var peer))
            {
                return;
            }

            if (!AddsPieces(peer.Pieces, incoming) && ++peer.Bitfields > MaxBitfieldsPerPeer)
            {
                throw new PeerProtocolException($"More than {MaxBitfieldsPerPeer} bitfields.");
            }

            Picker?.RemoveAvailability(peer.Pieces, peer.IsUnserved, peer.IsLocal);
            BeforePeerBitfieldLocked(peer);
            peer.Pieces.TryReadFrom(bits, out _);
            Picker?.AddAvailability(peer.Pieces, peer.IsUnserved, peer.IsLocal);
            AfterPeerBitfieldLocked(peer);
            UpdateInterest(peer);
            FillRequests(peer);
            bothComplete = IsComplete && peer.Pieces.AllSet;
        }

        if (bothComplete)
        {
            session.Close("both sides complete");
        }
    }

    public void OnListenPortKnown(PeerSession session)
    {
        if (session.PeerEndPoint is { } endPoint && _blacklist.Contains(endPoint.Address, endPoint.Port))
        {
            session.Close("blacklisted in this swarm");
        }
    }

    /// <summary>
    /// The peer said which zone it is in (extension handshake): a peer of this node's zone is local, and remote peers
    /// are not asked for what it serves (see <see cref="PiecePicker"/>). Only with <see cref="SwarmOptions.PreferLocalPeers"/>
    /// and a zone of our own; a peer that names no zone stays remote.
    /// </summary>
    public void OnZoneKnown(PeerSession session)
    {
        var zone = Context.Options.Zone;
        var local = Context.Options.PreferLocalPeers && zone.Length > 0
            && string.Equals(session.RemoteZone, zone, StringComparison.Ordinal);
        lock (_sync)
        {
            if (!_peers.TryGetValue(session.Id, out var peer) || peer.IsLocal == local)
            {
                return;
            }

            peer.IsLocal = local;
            Picker?.SetLocal(peer.Pieces, local, serving: !peer.IsUnserved);
            UpdateCrossingShareLocked();
            FillAllLocked();
        }
    }

    /// <summary>
    /// Splits the pieces to pull across zones between this node and its local peers (<see cref="CrossingShare"/>), so
    /// each piece that must cross is fetched across by one agent of the zone while the others wait for its <c>have</c>.
    /// </summary>
    private void UpdateCrossingShareLocked()
    {
        if (Picker is not { } picker)
        {
            return;
        }

        var locals = new List<(string, int)>();
        foreach (var other in _peers.Values)
        {
            if (other.IsLocal)
            {
                locals.Add((other.Session.RemotePeerId.ToHex(), other.Key));
            }
        }

        picker.SetCrossingShare(CrossingShare.Compute(Context.PeerId.ToHex(), locals, picker.PieceCount));
    }

    /// <summary>The session's timer: pipeline size, stalls, the end of a snub, reveals held back, slot rotation.</summary>
    public void OnTick(PeerSession session, TimeSpan elapsed)
    {
        lock (_sync)
        {
            if (!_peers.TryGetValue(session.Id, out var peer))
            {
                return;
            }

            var now = Context.Time.GetTimestamp();
            AdaptRequestDepth(peer, elapsed);
            CheckStall(peer, now);
            SyncServing(peer); // a snub ends by time
            OnSuperSeededTickLocked(peer);
            FillRequests(peer);
            _choking.OnTick(_chokeScratch);
            ApplyChokeChangesLocked();
        }
    }
}

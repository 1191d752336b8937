using System.Text;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.PiecePicking;
using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

// Super-seeding (SwarmOptions.SuperSeed): a complete seed shows our own peers a few pieces at a time.
internal sealed partial class BlobSwarm
{
    private static readonly byte[] OurClientPrefix = Encoding.ASCII.GetBytes(PeerId.ClientPrefix);
    private readonly List<int> _revealScratch = [];
    private readonly List<(int Peer, int Piece)> _revealToOthersScratch = [];

    /// <summary>Null unless this node seeds a complete blob with super-seeding on.</summary>
    internal SuperSeeder? SuperSeeder { get; }

    private static SuperSeeder? CreateSuperSeeder(SwarmContext context, Core.MetaInfos.MetaInfo metaInfo, bool download)
    {
        if (download || !context.SuperSeed || metaInfo.PieceCount == 0)
        {
            return null;
        }

        var budget = Math.Max(2, context.Options.SuperSeedRevealBytes / Math.Max(1, metaInfo.PieceLength));
        return new SuperSeeder(
            new SuperSeederSettings(metaInfo.PieceCount, metaInfo.GetPieceSize, RevealAtOnce: 2, budget,
                context.Options.SuperSeedForwardPieces, context.Options.SuperSeedForwardWait),
            context.Time);
    }

    /// <summary>Our own peers (by their peer id's client prefix) are super-seeded; other clients see everything.</summary>
    private static bool IsOurClient(PeerId peerId)
    {
        Span<byte> bytes = stackalloc byte[PeerId.Length];
        peerId.CopyTo(bytes);
        return bytes.StartsWith(OurClientPrefix);
    }

    /// <summary>At registration: the bitfield a super-seeded peer is shown instead of the store's.</summary>
    private bool TryStartSuperSeedingLocked(Peer peer)
    {
        if (SuperSeeder is null || !IsOurClient(peer.Session.RemotePeerId))
        {
            return false;
        }

        _revealScratch.Clear();
        SuperSeeder.AddPeer(peer.Key, peer.Pieces, _revealScratch);
        _revealScratch.Clear();
        peer.SuperSeeded = true;
        var revealed = SuperSeeder.RevealedTo(peer.Key);
        if (!revealed.NoneSet)
        {
            // A snapshot: later reveals go as haves behind it.
            peer.Session.Send(new Outbound(OutboundKind.Bitfield, Payload: revealed.ToArray()));
        }

        return true;
    }

    /// <summary>The peer announced a piece: a super-seeded peer may be shown the next one.</summary>
    private void OnPeerHaveLocked(Peer peer, int piece)
    {
        if (SuperSeeder is null || !peer.SuperSeeded)
        {
            return;
        }

        SuperSeeder.OnHave(peer.Key, piece, _revealScratch, _revealToOthersScratch);
        SendRevealsLocked(peer);
        foreach (var (key, shown) in _revealToOthersScratch)
        {
            if (_peers.TryGetValue(key, out var other))
            {
                other.Session.SendRevealAhead(shown);
            }
        }

        _revealToOthersScratch.Clear();
    }

    /// <summary>The session's timer: a super-seeded peer held back by pieces it has not passed on may be shown more.</summary>
    private void OnSuperSeededTickLocked(Peer peer)
    {
        if (SuperSeeder is null || !peer.SuperSeeded || _disposed)
        {
            return;
        }

        SuperSeeder.OnTick(peer.Key, _revealScratch, choked: _choking.IsChoking(peer.Key) && _choking.IsInterested(peer.Key));
        SendRevealsLocked(peer);
    }

    private void BeforePeerBitfieldLocked(Peer peer)
    {
        if (peer.SuperSeeded)
        {
            SuperSeeder?.BeforeBitfield(peer.Key);
        }
    }

    private void AfterPeerBitfieldLocked(Peer peer)
    {
        if (SuperSeeder is null || !peer.SuperSeeded)
        {
            return;
        }

        SuperSeeder.AfterBitfield(peer.Key, _revealScratch);
        SendRevealsLocked(peer);
    }

    /// <summary>A block went out to a super-seeded peer; a piece sent in full makes room for the next.</summary>
    private void OnSuperSeededBlockSentLocked(Peer peer, BlockRequest block)
    {
        if (SuperSeeder is null || _disposed)
        {
            return;
        }

        SuperSeeder.OnBlockSent(peer.Key, block.Piece, block.Length, _revealScratch);
        SendRevealsLocked(peer);
    }

    private void SendRevealsLocked(Peer peer)
    {
        foreach (var piece in _revealScratch)
        {
            peer.Session.SendRevealAhead(piece);
        }

        _revealScratch.Clear();
    }
}

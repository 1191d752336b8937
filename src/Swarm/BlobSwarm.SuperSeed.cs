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
    private bool TryStartSuperSeedingLocked(PeerSession session)
    {
        if (SuperSeeder is null || !IsOurClient(session.RemotePeerId))
        {
            return false;
        }

        _revealScratch.Clear();
        SuperSeeder.AddPeer(session.Key, session.PeerPieces, _revealScratch);
        _revealScratch.Clear();
        session.SuperSeeded = true;
        var revealed = SuperSeeder.RevealedTo(session.Key);
        if (!revealed.NoneSet)
        {
            // A snapshot: the send loop writes it outside the lock, and later reveals go as haves behind it.
            session.RevealedBitfield = revealed.ToArray();
            session.Enqueue(new Outbound(OutboundKind.Bitfield));
        }

        return true;
    }

    /// <summary>The peer announced a piece: a super-seeded peer may be shown the next one.</summary>
    public void OnPeerHaveLocked(PeerSession session, int piece)
    {
        if (SuperSeeder is null || !session.SuperSeeded)
        {
            return;
        }

        SuperSeeder.OnHave(session.Key, piece, _revealScratch, _revealToOthersScratch);
        SendRevealsLocked(session);
        foreach (var (peer, shown) in _revealToOthersScratch)
        {
            if (_sessions.TryGetValue(peer, out var other))
            {
                other.EnqueueReveal(shown);
            }
        }

        _revealToOthersScratch.Clear();
    }

    /// <summary>The session's timer: a super-seeded peer held back by pieces it has not passed on may be shown more.</summary>
    public void OnSuperSeededTickLocked(PeerSession session)
    {
        if (SuperSeeder is null || !session.SuperSeeded || _disposed)
        {
            return;
        }

        SuperSeeder.OnTick(session.Key, _revealScratch);
        SendRevealsLocked(session);
    }

    public void BeforePeerBitfieldLocked(PeerSession session)
    {
        if (session.SuperSeeded)
        {
            SuperSeeder?.BeforeBitfield(session.Key);
        }
    }

    public void AfterPeerBitfieldLocked(PeerSession session)
    {
        if (SuperSeeder is null || !session.SuperSeeded)
        {
            return;
        }

        SuperSeeder.AfterBitfield(session.Key, _revealScratch);
        SendRevealsLocked(session);
    }

    /// <summary>A block went out to a super-seeded peer; a piece sent in full makes room for the next.</summary>
    public void OnBlockSent(PeerSession session, int piece, int length)
    {
        lock (Sync)
        {
            if (SuperSeeder is null || _disposed || session.Key < 0)
            {
                return;
            }

            SuperSeeder.OnBlockSent(session.Key, piece, length, _revealScratch);
            SendRevealsLocked(session);
        }
    }

    private void SendRevealsLocked(PeerSession session)
    {
        foreach (var piece in _revealScratch)
        {
            session.EnqueueReveal(piece);
        }

        _revealScratch.Clear();
    }
}

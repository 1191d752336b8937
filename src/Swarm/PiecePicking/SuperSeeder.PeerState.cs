using P2PRegistry.Core.Pieces;

namespace P2PRegistry.Swarm.PiecePicking;

// One super-seeded peer's state.
internal sealed partial class SuperSeeder
{
    /// <summary>One super-seeded peer: what it was shown, what it holds, its pending pieces, its forward account, and how fast it settles them.</summary>
    private sealed class PeerState(Bitfield revealed, Bitfield pieces, SettleTimer timer)
    {
        public Bitfield Revealed { get; } = revealed;

        public Bitfield Pieces { get; } = pieces;

        public Dictionary<int, Pending> Pending { get; } = [];

        /// <summary>Sent to it in full, not yet announced by another peer.</summary>
        public ForwardWindow.Account Account { get; } = new();

        public SettleTimer Timer { get; } = timer;

        /// <summary>It said interested, a block went to it, or it announced a piece: it takes part in the swarm.</summary>
        public bool Fetching { get; set; }

        /// <summary>
        /// Fetching, yet asked for none of the pieces it was shown in time: they were given back and it is shown no more
        /// until a block goes to it or it announces a piece.
        /// </summary>
        public bool Dormant { get; set; }
    }

    /// <summary>Bytes of a shown piece sent to the peer so far, and when it was shown.</summary>
    private readonly record struct Pending(int Sent, long ShownAt);
}

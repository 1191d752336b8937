using P2PRegistry.Core.Pieces;
using P2PRegistry.Swarm.PiecePicking;
using P2PRegistry.Swarm.Sessions;

namespace P2PRegistry.Swarm;

internal sealed partial class BlobSwarm
{
    /// <summary>
    /// Everything this swarm knows about one connected peer. Private to the swarm and only touched under its lock:
    /// the session reports, the swarm decides.
    /// </summary>
    private sealed class Peer
    {
        public Peer(PeerSession session, int pieceCount, int requestDepth, long now)
        {
            Session = session;
            Pieces = new Bitfield(pieceCount);
            RequestDepth = requestDepth;
            ConnectedAt = now;
            LastBlockAt = now;
            LastUsefulAt = now;
        }

        public PeerSession Session { get; }

        public int Key => Session.Id;

        /// <summary>The pieces the peer has (its bitfield and haves).</summary>
        public Bitfield Pieces { get; }

        public long ConnectedAt { get; }

        // What this node asks of the peer.
        public bool AmInterested { get; set; }

        public bool PeerChoking { get; set; } = true;

        /// <summary>
        /// The peer's pieces do not keep an origin from being asked for them: it is an origin itself (the last resort),
        /// or it is choking us, or it stopped answering (snubbed). What the picker was told: it changes only through
        /// <see cref="SyncServing"/>, so availability is added and removed with the same flag.
        /// </summary>
        public bool IsUnserved { get; set; } = true;

        /// <summary>Until when the peer is asked for nothing after a stall (0: not snubbed).</summary>
        public long SnubbedUntil { get; set; }

        /// <summary>The peer said it is in this node's zone (see <see cref="OnZoneKnown"/>); its pieces count as local.</summary>
        public bool IsLocal { get; set; }

        /// <summary>Blocks asked of the peer and not received yet (at most <see cref="RequestDepth"/>).</summary>
        public List<BlockRequest> Outstanding { get; } = [];

        public int RequestDepth { get; set; }

        public long BytesSinceTick { get; set; }

        /// <summary>When the peer last delivered a block we asked it for (the stall clock).</summary>
        public long LastBlockAt { get; set; }

        /// <summary>Blocks received that we never asked this peer for (or had cancelled), since its last useful block.</summary>
        public int UnrequestedBlocks { get; set; }

        public int Bitfields { get; set; }

        // What the peer asks of this node.

        /// <summary>Requests in arrival order, cancelled ones included until they reach the front.</summary>
        public Queue<BlockRequest> Uploads { get; } = new();

        /// <summary>The requests in <see cref="Uploads"/> still wanted (a cancel counts only if it matches one).</summary>
        public HashSet<BlockRequest> LiveUploads { get; } = [];

        /// <summary>The last time a block went either way (the peer gave or took something).</summary>
        public long LastUsefulAt { get; set; }

        /// <summary>This complete seed shows the peer a few pieces at a time (<see cref="SwarmOptions.SuperSeed"/>).</summary>
        public bool SuperSeeded { get; set; }
    }
}

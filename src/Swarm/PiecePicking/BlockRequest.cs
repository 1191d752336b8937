namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>One block of a piece: the unit a peer is asked for (BEP 3 <c>request</c> / <c>piece</c>).</summary>
internal readonly record struct BlockRequest(int Piece, int Offset, int Length);

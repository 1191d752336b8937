namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>What the picker made of a block that arrived.</summary>
internal enum BlockReceipt
{
    /// <summary>Not asked of this peer, or already received from another: drop the bytes.</summary>
    Unexpected,

    /// <summary>Stored in the piece; more blocks are missing.</summary>
    Accepted,

    /// <summary>The last block of the piece: verify it now.</summary>
    PieceComplete,
}

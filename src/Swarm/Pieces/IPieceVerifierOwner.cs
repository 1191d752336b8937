namespace P2PRegistry.Swarm.Pieces;

/// <summary>
/// What a <see cref="PieceVerifier"/> hands back to the swarm that owns the pieces: every piece handed in comes back
/// exactly once, checked or dropped, with its buffer (the owner returns it to its pool or keeps it). Neither call may
/// throw: they run on the thread pool.
/// </summary>
internal interface IPieceVerifierOwner
{
    /// <summary>The piece's SHA-1 was checked: <paramref name="matches"/> says whether it is what the MetaInfo says.</summary>
    void OnPieceChecked(int piece, byte[] buffer, bool matches);

    /// <summary>The verifier was stopped before it checked the piece: nothing about it is known.</summary>
    void OnPieceDropped(int piece, byte[] buffer);
}

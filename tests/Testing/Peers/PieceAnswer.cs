namespace P2PRegistry.Testing.Peers;

/// <summary>How a <see cref="ScriptedPeerListener"/> answers the requests it is sent.</summary>
public enum PieceAnswer
{
    /// <summary>Never answers (a peer that stalls every request it accepted).</summary>
    Hold,

    /// <summary>Random bytes of the requested length (fails the piece hash).</summary>
    Junk,

    /// <summary>The right bytes.</summary>
    Correct,

    /// <summary>The right bytes with the first one flipped (a liar whose data looks plausible).</summary>
    Corrupt,
}

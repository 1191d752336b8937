namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>How a <see cref="SuperSeeder"/> shows one blob's pieces.</summary>
/// <param name="PieceCount">Pieces of the blob.</param>
/// <param name="PieceSize">The size of a piece (the last one is shorter).</param>
/// <param name="RevealAtOnce">Pieces revealed to a peer and not yet settled, at most (its pipeline to this seed), or the
/// least each peer gets with a <paramref name="RevealBudget"/> (see <see cref="RevealLimit"/>).</param>
/// <param name="RevealBudget">
/// When positive: pieces revealed and not yet settled across all peers, shared out equally; a peer reaches its share one
/// settled piece at a time (see <see cref="RevealLimit"/>).
/// </param>
/// <param name="ForwardWindow">
/// When positive (and with a clock): pieces sent in full to a peer and not yet announced by another peer, at most,
/// before it is shown more (see <see cref="PiecePicking.ForwardWindow"/>). 0: a piece settles when sent in full.
/// </param>
/// <param name="ForwardWait">How long a piece sent in full waits for another peer to announce it, at most.</param>
internal sealed record SuperSeederSettings(
    int PieceCount,
    Func<int, int> PieceSize,
    int RevealAtOnce,
    int RevealBudget = 0,
    int ForwardWindow = 0,
    TimeSpan ForwardWait = default);

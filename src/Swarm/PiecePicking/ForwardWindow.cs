namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>
/// BEP 16's rule, widened to a window: a piece sent in full to a super-seeded peer stays on that peer's
/// <see cref="Account"/> until another peer announces it, that is until the peer passed it on (or the forward wait,
/// counted from the piece's last block, ran out). A peer with as many pieces on its account as the window (or its
/// reveal limit, if larger) is shown no more.
/// </summary>
/// <remarks>
/// A peer whose flow from the seed is fast but whose uplink cannot pass on what it gets (each piece it alone holds
/// must go to every other peer over its uplink) is shown no more until it catches up: measured with 12 Agents, runs
/// where one Agent got 140-185 of the 1024 pieces from the seed (an even share is 85) ended with that Agent's uplink
/// the only busy one for 3-8 s while the others waited for what only it held. The wait bounds it: a peer its peers
/// cannot reach at all is not held back for good, and the seed never stalls on it.
/// </remarks>
/// <remarks>
/// Pure state, no I/O and no locking. Off (nothing is ever held) without a clock or with a window of 0: a piece then
/// settles when sent in full.
/// </remarks>
internal sealed class ForwardWindow
{
    private readonly int[] _awaiting;
    private readonly int _window;
    private readonly TimeSpan _wait;
    private readonly TimeProvider? _time;

    /// <param name="pieceCount">Pieces of the blob.</param>
    /// <param name="window">Pieces on a peer's account, at most, before it is shown more; 0: off.</param>
    /// <param name="wait">How long a piece sent in full waits for another peer to announce it, at most.</param>
    /// <param name="time">The clock of the wait; without one the window is off.</param>
    public ForwardWindow(int pieceCount, int window, TimeSpan wait, TimeProvider? time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        ArgumentOutOfRangeException.ThrowIfNegative(window);
        ArgumentOutOfRangeException.ThrowIfLessThan(wait, TimeSpan.Zero);
        _awaiting = new int[pieceCount];
        _window = time is null ? 0 : window;
        _wait = wait;
        _time = time;
    }

    public bool Enabled => _window > 0;

    /// <summary>Whether some peer has the piece on its account (it waits for another peer to announce it).</summary>
    public bool IsAwaited(int piece) => _awaiting[piece] > 0;

    /// <summary>
    /// The piece, shown at <paramref name="shownAt"/>, was sent in full to the peer of <paramref name="account"/>.
    /// True: it goes on the account, since others lack it (<paramref name="holders"/> of the
    /// <paramref name="peerCount"/> peers hold it). False: it settles now (the window is off, or every other peer has it).
    /// </summary>
    public bool TryHold(Account account, int piece, long shownAt, int holders, int peerCount)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (!Enabled || holders >= peerCount - 1)
        {
            return false;
        }

        account.Forwards.Add(piece, new Forward(shownAt, _time!.GetTimestamp()));
        _awaiting[piece]++;
        return true;
    }

    /// <summary>
    /// Another peer announced the piece: if it was on <paramref name="account"/>, the peer passed it on, and the
    /// piece settles (<paramref name="shownAt"/>: when it was shown).
    /// </summary>
    public bool TryPassOn(Account account, int piece, out long shownAt)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (!account.Forwards.Remove(piece, out var forward))
        {
            shownAt = 0;
            return false;
        }

        _awaiting[piece]--;
        shownAt = forward.ShownAt;
        return true;
    }

    /// <summary>
    /// Whether the peer of <paramref name="account"/>, shown up to <paramref name="limit"/> pieces at once, is held
    /// back. First the pieces that waited the whole wait leave the account and settle: when each was shown goes to
    /// <paramref name="settled"/>.
    /// </summary>
    public bool HoldsBack(Account account, int limit, List<long> settled)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(settled);
        if (!Enabled || account.Count == 0)
        {
            return false;
        }

        ForgetStale(account, settled);
        return account.Count >= Math.Max(_window, limit);
    }

    /// <summary>The peer is gone: nobody waits for it to pass its pieces on.</summary>
    public void Close(Account account)
    {
        ArgumentNullException.ThrowIfNull(account);
        foreach (var piece in account.Forwards.Keys)
        {
            _awaiting[piece]--;
        }

        account.Forwards.Clear();
    }

    // Pieces sent longer ago than the wait: the peer cannot pass them on soon (or its peers cannot reach it).
    private void ForgetStale(Account account, List<long> settled)
    {
        List<int>? stale = null;
        foreach (var (piece, forward) in account.Forwards)
        {
            if (_time!.GetElapsedTime(forward.SentAt) >= _wait)
            {
                (stale ??= []).Add(piece);
            }
        }

        foreach (var piece in stale ?? [])
        {
            account.Forwards.Remove(piece, out var forward);
            _awaiting[piece]--;
            settled.Add(forward.ShownAt);
        }
    }

    /// <summary>One peer's pieces sent to it in full and not yet announced by another peer.</summary>
    internal sealed class Account
    {
        /// <summary>Piece → when it was shown, and when its last block went.</summary>
        internal Dictionary<int, Forward> Forwards { get; } = [];

        public int Count => Forwards.Count;

        public IReadOnlyCollection<int> Pieces => Forwards.Keys;
    }

    internal readonly record struct Forward(long ShownAt, long SentAt);
}

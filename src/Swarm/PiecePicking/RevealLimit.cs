namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>
/// How many pieces a super-seeded peer is shown and not yet settled, at most. Without a budget, <c>atOnce</c> (its
/// pipeline to the seed). With one, the budget is shared out equally among the peers, <c>atOnce</c> the least each
/// gets, and a peer reaches its share one settled piece at a time from <c>atOnce</c>.
/// </summary>
/// <remarks>
/// A lone downloader soon has the whole budget in flight; with many, each has a little, so the blob leaves the seed in
/// a narrow front (every piece reaches its first peer soon after it is shown, and the peers' in-order prefixes, what
/// their streaming readers pass on, keep up). The ramp makes peers that connect together start equal, instead of the
/// first to arrive being shown the whole budget at once and holding the front of the blob while it fetches all of it at
/// a twelfth of the seed's uplink.
/// </remarks>
internal sealed class RevealLimit
{
    private readonly int _atOnce;
    private readonly int _budget;

    /// <param name="atOnce">The least a peer is shown and not yet settled (at least 1).</param>
    /// <param name="budget">Shown and not yet settled across all peers; 0: no budget, every peer gets <paramref name="atOnce"/>.</param>
    public RevealLimit(int atOnce, int budget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(atOnce, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        _atOnce = atOnce;
        _budget = budget;
    }

    /// <summary>The limit of a peer with <paramref name="settled"/> pieces settled, among <paramref name="peerCount"/> peers.</summary>
    public int Of(int settled, int peerCount)
    {
        if (_budget <= 0)
        {
            return _atOnce;
        }

        var share = Math.Max(_atOnce, _budget / Math.Max(1, peerCount));
        return Math.Min(share, _atOnce + settled);
    }
}

using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

public sealed class SlowPeerOffsetTests
{
    private static SlowPeerOffset ThreeFastOneSlow()
    {
        var offset = default(SlowPeerOffset);
        offset.Add(latency: 0.1, shownAtOnce: 2);
        offset.Add(latency: 0.1, shownAtOnce: 2);
        offset.Add(latency: 0.1, shownAtOnce: 2);
        offset.Add(latency: 1.0, shownAtOnce: 2);
        return offset;
    }

    [Fact]
    public void PiecesBehind_TheFastest_Zero() =>
        Assert.Equal(0, ThreeFastOneSlow().PiecesBehind(latency: 0.1, pieceCount: 1000));

    [Fact]
    public void PiecesBehind_SlowPeer_HowFarTheFrontMovesWhileItCatchesUp()
    {
        // The front moves 3 × 2 / 0.1 + 2 / 1.0 = 62 pieces a second; the slow peer settles 0.9 s after the fastest.
        Assert.Equal(55, ThreeFastOneSlow().PiecesBehind(latency: 1.0, pieceCount: 1000));
    }

    [Fact]
    public void PiecesBehind_AtMostThePieceCount() =>
        Assert.Equal(40, ThreeFastOneSlow().PiecesBehind(latency: 1.0, pieceCount: 40));

    [Fact]
    public void PiecesBehind_UntimedPeersDoNotCount_AnUntimedPeerSkipsNothing()
    {
        var offset = default(SlowPeerOffset);
        Assert.Equal(0, offset.PiecesBehind(latency: 1.0, pieceCount: 1000));

        offset.Add(latency: 0, shownAtOnce: 100);
        offset.Add(latency: 0.5, shownAtOnce: 2);
        offset.Add(latency: 1.0, shownAtOnce: 2);
        Assert.Equal(3, offset.PiecesBehind(latency: 1.0, pieceCount: 1000)); // 6 pieces a second, 0.5 s later
        Assert.Equal(0, offset.PiecesBehind(latency: 0, pieceCount: 1000));
    }
}

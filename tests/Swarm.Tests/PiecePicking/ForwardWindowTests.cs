using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

public sealed class ForwardWindowTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    [Fact]
    public void TryHold_OthersLackThePiece_OnTheAccountAndAwaited()
    {
        var window = new ForwardWindow(8, window: 2, Wait, new FakeTimeProvider());
        var account = new ForwardWindow.Account();

        Assert.True(window.TryHold(account, piece: 3, shownAt: 7, holders: 1, peerCount: 3));
        Assert.Equal([3], account.Pieces);
        Assert.True(window.IsAwaited(3));
        Assert.False(window.IsAwaited(2));
    }

    [Fact]
    public void TryHold_EveryOtherPeerHoldsIt_OrALonePeer_SettlesNow()
    {
        var window = new ForwardWindow(8, window: 2, Wait, new FakeTimeProvider());
        var account = new ForwardWindow.Account();

        Assert.False(window.TryHold(account, piece: 3, shownAt: 0, holders: 2, peerCount: 3));
        Assert.False(window.TryHold(account, piece: 4, shownAt: 0, holders: 0, peerCount: 1));
        Assert.Equal(0, account.Count);
        Assert.False(window.IsAwaited(3));
    }

    [Fact]
    public void TryHold_NoClockOrNoWindow_Off()
    {
        var account = new ForwardWindow.Account();
        var withoutClock = new ForwardWindow(8, window: 2, Wait, time: null);
        var withoutWindow = new ForwardWindow(8, window: 0, Wait, new FakeTimeProvider());

        Assert.False(withoutClock.Enabled);
        Assert.False(withoutWindow.Enabled);
        Assert.False(withoutClock.TryHold(account, piece: 1, shownAt: 0, holders: 0, peerCount: 4));
        Assert.False(withoutWindow.TryHold(account, piece: 1, shownAt: 0, holders: 0, peerCount: 4));
        Assert.Equal(0, account.Count);
    }

    [Fact]
    public void TryPassOn_PieceOnTheAccount_LeavesIt_WithWhenItWasShown()
    {
        var window = new ForwardWindow(8, window: 2, Wait, new FakeTimeProvider());
        var account = new ForwardWindow.Account();
        var other = new ForwardWindow.Account();
        window.TryHold(account, piece: 3, shownAt: 42, holders: 0, peerCount: 3);
        window.TryHold(other, piece: 3, shownAt: 43, holders: 0, peerCount: 3);

        Assert.False(window.TryPassOn(account, piece: 4, out _));
        Assert.True(window.TryPassOn(account, piece: 3, out var shownAt));
        Assert.Equal(42, shownAt);
        Assert.Equal(0, account.Count);
        Assert.True(window.IsAwaited(3)); // still on the other peer's account

        Assert.True(window.TryPassOn(other, piece: 3, out _));
        Assert.False(window.IsAwaited(3));
    }

    [Fact]
    public void HoldsBack_AsManyAsTheWindowOrTheLimit_OnTheAccount()
    {
        var window = new ForwardWindow(8, window: 2, Wait, new FakeTimeProvider());
        var account = new ForwardWindow.Account();
        var settled = new List<long>();
        Assert.False(window.HoldsBack(account, limit: 1, settled));

        window.TryHold(account, piece: 0, shownAt: 0, holders: 0, peerCount: 2);
        Assert.False(window.HoldsBack(account, limit: 1, settled));

        window.TryHold(account, piece: 1, shownAt: 0, holders: 0, peerCount: 2);
        Assert.True(window.HoldsBack(account, limit: 1, settled));
        Assert.False(window.HoldsBack(account, limit: 3, settled)); // a peer shown three at once may have three on it
        Assert.Empty(settled);
    }

    [Fact]
    public void HoldsBack_PiecesThatWaitedTheWholeWait_LeaveAndSettle()
    {
        var time = new FakeTimeProvider();
        var window = new ForwardWindow(8, window: 2, Wait, time);
        var account = new ForwardWindow.Account();
        window.TryHold(account, piece: 0, shownAt: 10, holders: 0, peerCount: 2);
        time.Advance(TimeSpan.FromSeconds(1));
        window.TryHold(account, piece: 1, shownAt: 11, holders: 0, peerCount: 2);
        var settled = new List<long>();

        time.Advance(TimeSpan.FromSeconds(0.9));
        Assert.True(window.HoldsBack(account, limit: 1, settled));
        Assert.Empty(settled);

        time.Advance(TimeSpan.FromSeconds(0.1)); // piece 0's last block went 2 s ago, piece 1's 1 s ago
        Assert.False(window.HoldsBack(account, limit: 1, settled));
        Assert.Equal([10], settled);
        Assert.Equal([1], account.Pieces);
        Assert.False(window.IsAwaited(0));
    }

    [Fact]
    public void Close_ThePeersPiecesNoLongerAwaited()
    {
        var window = new ForwardWindow(8, window: 2, Wait, new FakeTimeProvider());
        var account = new ForwardWindow.Account();
        window.TryHold(account, piece: 5, shownAt: 0, holders: 0, peerCount: 2);

        window.Close(account);

        Assert.False(window.IsAwaited(5));
        Assert.Equal(0, account.Count);
    }

    [Fact]
    public void Constructor_OutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ForwardWindow(-1, 2, Wait, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ForwardWindow(8, -1, Wait, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ForwardWindow(8, 2, TimeSpan.FromSeconds(-1), null));
    }
}

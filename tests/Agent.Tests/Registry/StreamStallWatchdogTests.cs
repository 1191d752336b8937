using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Agent.Registry;

namespace P2PRegistry.Agent.Tests.Registry;

public sealed class StreamStallWatchdogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void NoProgress_ForTheTimeout_CancelsAsStalled()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamStallWatchdog(Timeout, time, CancellationToken.None);

        time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(watchdog.Token.IsCancellationRequested);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(watchdog.Token.IsCancellationRequested);
        Assert.True(watchdog.IsStalled);
    }

    [Fact]
    public void Progress_PushesTheDeadlineBack_ThenAStallStillCuts()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamStallWatchdog(Timeout, time, CancellationToken.None);

        // Progress just before each deadline: far longer than the timeout in all, never stalled.
        for (var i = 0; i < 5; i++)
        {
            time.Advance(Timeout - TimeSpan.FromSeconds(1));
            watchdog.Progress();
        }

        Assert.False(watchdog.Token.IsCancellationRequested);

        time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(watchdog.Token.IsCancellationRequested);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(watchdog.IsStalled);
        Assert.True(watchdog.Token.IsCancellationRequested);
    }

    [Fact]
    public void SourceStoringOtherData_NotAStall_ThenASourceThatStopsToo_Cuts()
    {
        var time = new FakeTimeProvider();
        long stored = 0;
        using var watchdog = new StreamStallWatchdog(Timeout, time, CancellationToken.None, () => Volatile.Read(ref stored));

        // No byte reaches the client for four timeouts (the next piece in order is late), but the download stores other
        // pieces all along: the source is alive.
        for (var i = 0; i < 8; i++)
        {
            time.Advance(Timeout / 2);
            Interlocked.Add(ref stored, 256 * 1024);
        }

        Assert.False(watchdog.Token.IsCancellationRequested);

        // Now the download stops too: cut within two timeouts (the source is asked once per timeout).
        time.Advance(Timeout);
        time.Advance(Timeout);
        Assert.True(watchdog.IsStalled);
        Assert.True(watchdog.Token.IsCancellationRequested);
    }

    [Fact]
    public void SlowClientWrite_LongerThanTheTimeout_NotAStall_TheSourceClockRunsAfterIt()
    {
        var time = new FakeTimeProvider();
        using var watchdog = new StreamStallWatchdog(Timeout, time, CancellationToken.None);

        // A client that takes three timeouts to read one chunk: its pace is not the source's stall.
        watchdog.WriteStarted();
        for (var i = 0; i < 3; i++)
        {
            time.Advance(Timeout);
        }

        Assert.False(watchdog.Token.IsCancellationRequested);
        watchdog.WriteFinished();

        // Then the source gives nothing for the timeout: cut.
        time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(watchdog.Token.IsCancellationRequested);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(watchdog.IsStalled);
    }

    [Fact]
    public void RequestAborted_CancelsTheToken_NotAStall()
    {
        var time = new FakeTimeProvider();
        using var aborted = new CancellationTokenSource();
        using var watchdog = new StreamStallWatchdog(Timeout, time, aborted.Token);

        aborted.Cancel();

        Assert.True(watchdog.Token.IsCancellationRequested);
        Assert.False(watchdog.IsStalled);
    }

    [Fact]
    public void Disposed_TimerNoLongerFires()
    {
        var time = new FakeTimeProvider();
        var watchdog = new StreamStallWatchdog(Timeout, time, CancellationToken.None);

        watchdog.Dispose();
        time.Advance(Timeout * 2);

        Assert.False(watchdog.IsStalled);
    }
}

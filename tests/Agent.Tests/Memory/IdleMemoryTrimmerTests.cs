using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Agent.Memory;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Agent.Tests.Memory;

public sealed class IdleMemoryTrimmerTests
{
    private static readonly TimeSpan After = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();
    private int _active;
    private long _started;
    private int _marks;
    private int _trims;
    private int _ticks;
    private bool _ticking = true;

    private IdleMemoryTrimmer Create(TimeSpan? after = null)
    {
        _ticking = after != TimeSpan.Zero;
        return new(() =>
        {
            var downloads = (Volatile.Read(ref _active), Interlocked.Read(ref _started));
            Interlocked.Increment(ref _ticks);
            return downloads;
        }, () => Interlocked.Increment(ref _marks), () => Interlocked.Increment(ref _trims), after ?? After, _time, NullLogger<IdleMemoryTrimmer>.Instance);
    }

    /// <summary>Moves the fake clock one timer period at a time and waits for the trimmer's tick at each (none when it is off).</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        for (var step = After / IdleMemoryTrimmer.LooksPerIdleTime; by > TimeSpan.Zero; by -= step)
        {
            var ticks = Volatile.Read(ref _ticks);
            _time.Advance(step);
            if (_ticking)
            {
                await Eventually.AssertAsync(() => Volatile.Read(ref _ticks) > ticks);
            }
            else
            {
                await Task.Delay(10);
            }
        }
    }

    [Fact]
    public async Task NoDownloadForTheIdleTime_TrimsOnce_ThenNotAgainUntilADownloadHasRun()
    {
        await using var _ = Started(Create(), out var trimmer);

        _active = 1;
        await AdvanceAsync(After * 3);
        Assert.Equal(0, trimmer.Trims);

        _active = 0;
        await AdvanceAsync(After + (After / 2));
        Assert.Equal(1, trimmer.Trims);
        Assert.Equal(1, _marks);
        await AdvanceAsync(After * 4);
        Assert.Equal(1, trimmer.Trims);
        Assert.Equal(1, _trims);

        // The next download re-arms it: one more trim once that download is over and the idle time has passed.
        _active = 2;
        await AdvanceAsync(After);
        _active = 0;
        await AdvanceAsync(After / 2);
        Assert.Equal(1, trimmer.Trims);
        await AdvanceAsync(After);
        Assert.Equal(2, trimmer.Trims);
    }

    [Fact]
    public async Task TheTrim_ComesAtMostAnEighthOfTheIdleTimeAfterItIsDue()
    {
        await using var _ = Started(Create(), out var trimmer);
        _active = 1;
        await AdvanceAsync(After);

        // The download ends just after a look: the next look sees it idle, the trim is due the idle time after that.
        _active = 0;
        await AdvanceAsync(After - (After / IdleMemoryTrimmer.LooksPerIdleTime));
        Assert.Equal(0, trimmer.Trims);
        await AdvanceAsync(After / 8);

        Assert.Equal(1, trimmer.Trims);
    }

    [Fact]
    public async Task ADownloadThatBeganAndEndedBetweenTwoLooks_ReArmsTheTrimToo()
    {
        await using var _ = Started(Create(), out var trimmer);
        await AdvanceAsync(After * 2);
        Assert.Equal(1, trimmer.Trims);

        // A short pull: started and done before the trimmer looked again.
        Interlocked.Increment(ref _started);
        await AdvanceAsync(After / IdleMemoryTrimmer.LooksPerIdleTime);
        Assert.Equal(1, trimmer.Trims);
        await AdvanceAsync(After * 2);

        Assert.Equal(2, trimmer.Trims);
        Assert.Equal(2, _marks);
    }

    [Fact]
    public async Task Zero_NeverTrims()
    {
        await using var _ = Started(Create(TimeSpan.Zero), out var trimmer);

        await AdvanceAsync(After * 4);

        Assert.Equal(0, trimmer.Trims);
        Assert.Equal(0, _ticks);
    }

    [Fact]
    public void IdleTimeUnderASecond_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public void TrimProcessMemory_Runs()
    {
        var collections = GC.CollectionCount(GC.MaxGeneration);

        IdleMemoryTrimmer.TrimProcessMemory();

        Assert.True(GC.CollectionCount(GC.MaxGeneration) > collections, "no full collection ran");
    }

    private static Stopper Started(IdleMemoryTrimmer trimmer, out IdleMemoryTrimmer started)
    {
        started = trimmer;
        trimmer.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        return new Stopper(trimmer);
    }

    private sealed class Stopper(IdleMemoryTrimmer trimmer) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await trimmer.StopAsync(CancellationToken.None);
            trimmer.Dispose();
        }
    }
}

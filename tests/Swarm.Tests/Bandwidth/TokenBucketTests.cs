using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Swarm.Bandwidth;

namespace P2PRegistry.Swarm.Tests.Bandwidth;

public sealed class TokenBucketTests
{
    [Fact]
    public void TryTake_WithinBurst_ThenRefillsAtRate()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, 500, time);

        Assert.True(bucket.TryTake(500));
        Assert.False(bucket.TryTake(1));
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(bucket.TryTake(100));
        Assert.False(bucket.TryTake(1));
    }

    [Fact]
    public void Refill_CappedAtBurst()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, 500, time);
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(500, bucket.Available);
    }

    [Fact]
    public async Task TakeAsync_BeyondTokens_WaitsForTheDebtToBeRepaid()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, 1000, time);
        await bucket.TakeAsync(1000, CancellationToken.None);

        var pending = bucket.TakeAsync(500, CancellationToken.None).AsTask();
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await pending.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task TakeAsync_ConcurrentCallers_LaterOneWaitsLonger()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, 1, time);
        bucket.TryTake(1);

        var first = bucket.TakeAsync(1000, CancellationToken.None).AsTask();
        var second = bucket.TakeAsync(1000, CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(1));
        await first.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        await second.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task TakeAsync_Cancelled_Throws()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(10, 1, time);
        using var cts = new CancellationTokenSource();
        var pending = bucket.TakeAsync(1000, cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Unlimited_NeverWaits()
    {
        var bucket = new TokenBucket(0, 0, new FakeTimeProvider());
        Assert.True(bucket.TryTake(int.MaxValue));
        Assert.True(bucket.TakeAsync(int.MaxValue, CancellationToken.None).AsTask().IsCompletedSuccessfully);
    }
}

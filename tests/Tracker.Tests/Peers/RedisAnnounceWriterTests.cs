using System.Text;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Testing.Waiting;
using P2PRegistry.Tracker.Peers;
using StackExchange.Redis;

namespace P2PRegistry.Tracker.Tests.Peers;

/// <summary>The writer's ordering and bounds, against a fake Redis that applies each batch when its call completes and can hold one.</summary>
public sealed class RedisAnnounceWriterTests
{
    [Fact]
    public async Task WriteAsync_StopQueuedBehindAHeldStartOfTheSamePeer_TheStopWins()
    {
        var redis = new FakeRedis();
        await using var writer = new RedisAnnounceWriter(redis.RunAsync, () => [RedisValue.EmptyString], TimeProvider.System, TimeSpan.FromMinutes(1));
        redis.HoldNext();

        var start = writer.WriteAsync(FakeRedis.Announce("peer-1"), orderKey: 1);
        await Eventually.AssertAsync(() => redis.Calls == 1, "the start's batch was sent");
        var stop = writer.WriteAsync(FakeRedis.Stop("peer-1"), orderKey: 1);
        // A second writer, if there were one for this peer, would send the stop while the start is held.
        Assert.False(await Eventually.HoldsAsync(() => redis.Calls == 2, TimeSpan.FromSeconds(2)), "the stop went out while its peer's start was held");
        redis.Release();

        Assert.Equal(1, (await start).Outcome);
        Assert.Equal(2, (await stop).Outcome);
        Assert.Empty(redis.Peers);
    }

    [Fact]
    public async Task WriteAsync_AnotherShardsAnnounceBehindAHeldBatch_IsWrittenMeanwhile()
    {
        var redis = new FakeRedis();
        await using var writer = new RedisAnnounceWriter(redis.RunAsync, () => [RedisValue.EmptyString], TimeProvider.System, TimeSpan.FromMinutes(1));
        redis.HoldNext();

        var held = writer.WriteAsync(FakeRedis.Announce("peer-1"), orderKey: 0);
        await Eventually.AssertAsync(() => redis.Calls == 1, "the first batch was sent");
        var other = await writer.WriteAsync(FakeRedis.Announce("peer-2"), orderKey: 1);

        Assert.Equal(1, other.Outcome);
        Assert.False(held.IsCompleted);
        redis.Release();
        Assert.Equal(1, (await held).Outcome);
    }

    [Fact]
    public async Task WriteAsync_QueuedLongerThanTheQueueTimeout_FailsAndIsNeverApplied()
    {
        var time = new FakeTimeProvider();
        var redis = new FakeRedis();
        await using var writer = new RedisAnnounceWriter(redis.RunAsync, () => [RedisValue.EmptyString], time, TimeSpan.FromSeconds(3));
        redis.HoldNext();

        var held = writer.WriteAsync(FakeRedis.Announce("peer-1"), orderKey: 0);
        await Eventually.AssertAsync(() => redis.Calls == 1, "the first batch was sent");
        var late = writer.WriteAsync(FakeRedis.Announce("peer-2"), orderKey: 0);
        time.Advance(TimeSpan.FromSeconds(2));
        var inTime = writer.WriteAsync(FakeRedis.Announce("peer-3"), orderKey: 0);
        time.Advance(TimeSpan.FromSeconds(1.5));
        redis.Release();

        Assert.Equal(1, (await held).Outcome);
        var failure = await Assert.ThrowsAsync<PeerStoreUnavailableException>(() => late);
        Assert.Contains("Tracker:Redis:QueueTimeout", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await inTime).Outcome);
        Assert.Equal(["peer-1", "peer-3"], redis.Peers.Order());
        Assert.Equal(2, redis.Calls);
    }

    /// <summary>
    /// Keeps peers as a set; each call's announces take effect when the call completes, in order ('a': add, 's': remove),
    /// as Redis applies a script when it runs it. <see cref="HoldNext"/> holds the next call until <see cref="Release"/>.
    /// </summary>
    private sealed class FakeRedis
    {
        private readonly Lock _lock = new();
        private readonly HashSet<string> _peers = [];
        private TaskCompletionSource? _hold;
        private TaskCompletionSource? _held;
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public string[] Peers
        {
            get
            {
                lock (_lock)
                {
                    return [.. _peers];
                }
            }
        }

        public static byte[] Announce(string peer) => Encoding.ASCII.GetBytes("a" + peer);

        public static byte[] Stop(string peer) => Encoding.ASCII.GetBytes("s" + peer);

        public void HoldNext() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _held?.TrySetResult();

        public async Task<RedisResult> RunAsync(RedisValue[] values)
        {
            // The held call is recorded before the call is counted: a test that saw the count may release it at once.
            if (Interlocked.Exchange(ref _hold, null) is { } hold)
            {
                _held = hold;
                Interlocked.Increment(ref _calls);
                await hold.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }
            else
            {
                Interlocked.Increment(ref _calls);
            }

            var replies = new List<RedisResult> { RedisResult.Create((RedisValue)0), RedisResult.Create((RedisValue)0) };
            lock (_lock)
            {
                foreach (var value in values.Skip(1))
                {
                    var text = (string)value!;
                    var outcome = text[0] == 's' ? 2 : 1;
                    if (outcome == 2)
                    {
                        _peers.Remove(text[1..]);
                    }
                    else
                    {
                        _peers.Add(text[1..]);
                    }

                    replies.AddRange([RedisResult.Create((RedisValue)outcome), RedisResult.Create((RedisValue)(-1)), RedisResult.Create((RedisValue)(-1)), RedisResult.Create((RedisValue)(-1))]);
                }
            }

            return RedisResult.Create([.. replies]);
        }
    }
}

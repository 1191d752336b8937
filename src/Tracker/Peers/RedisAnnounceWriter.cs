using System.Threading.Channels;
using StackExchange.Redis;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// Group commit of announces: each announce queues its write and waits for its own result; writer loops send what
/// queued since their last call as one script call (<see cref="RedisScripts.Announce"/>, at most <see cref="MaxBatch"/>
/// announces, applied in order). No timer: a batch is whatever arrived while the previous one was in flight, so an
/// idle tracker sends each announce at once and a busy one pays Redis's per-command cost once per batch.
/// The announces of one peer apply in the order they were accepted: each writer loop owns a shard of the announces
/// (by the caller's order key, a hash of swarm and peer) with its own queue and sends its next batch only when the
/// last one completed (and one connection delivers calls to Redis in order), so a peer's stop queued after its start
/// never lands first and leaves a ghost peer until the peer TTL. Two loops keep one batch forming while the other runs.
/// Every wait is bounded: the queue by <see cref="Capacity"/> (a full queue fails the announce at once), the time an
/// announce waits in it by the queue timeout (<c>Tracker:Redis:QueueTimeout</c>: one found older when its loop takes
/// the next batch fails and is never sent, so never applied late), a batch by the connection's timeout (its failure
/// fails every announce in it). So an announce's answer comes within the queue timeout plus one batch's timeout.
/// </summary>
internal sealed class RedisAnnounceWriter : IAsyncDisposable
{
    /// <summary>Announces in one script call, at most.</summary>
    internal const int MaxBatch = 128;

    /// <summary>Announces queued, at most; past it an announce fails at once (Redis is not keeping up).</summary>
    internal const int Capacity = 8192;

    /// <summary>Writer loops, each with its own shard of the announces: at most this many script calls in flight at once.</summary>
    internal const int Writers = 2;

    private readonly Channel<Pending>[] _queues;

    private readonly Func<RedisValue[], Task<RedisResult>> _run;
    private readonly Func<RedisValue[]> _common;
    private readonly TimeProvider _time;
    private readonly TimeSpan _queueTimeout;
    private readonly long _queueTimeoutTicks;
    private readonly Task[] _loops;
    private long _batches;

    /// <param name="run">Sends one script call with these arguments; throws <see cref="PeerStoreUnavailableException"/> when Redis fails.</param>
    /// <param name="common">The arguments every batch starts with (prefix, now, cutoff, limits), made when the batch is sent.</param>
    /// <param name="time">The clock of the queue timeout.</param>
    /// <param name="queueTimeout">How long an announce may wait in the queue; one that waited longer fails unsent.</param>
    public RedisAnnounceWriter(Func<RedisValue[], Task<RedisResult>> run, Func<RedisValue[]> common, TimeProvider time, TimeSpan queueTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(queueTimeout, TimeSpan.Zero);
        _run = run;
        _common = common;
        _time = time;
        _queueTimeout = queueTimeout;
        _queueTimeoutTicks = (long)(queueTimeout.TotalSeconds * time.TimestampFrequency);
        _queues = new Channel<Pending>[Writers];
        _loops = new Task[Writers];
        for (var i = 0; i < Writers; i++)
        {
            // One reader per queue: that loop alone orders its shard's batches.
            var queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(Capacity / Writers)
            {
                SingleReader = true,
                SingleWriter = false,
                FullMode = BoundedChannelFullMode.Wait,
            });
            _queues[i] = queue;
            _loops[i] = Task.Run(() => LoopAsync(queue.Reader));
        }
    }

    /// <summary>Script calls sent so far (each holds one or more announces).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Queues one packed announce (<see cref="RedisScripts.Announce"/>) and returns its outcome code and group counts.</summary>
    /// <param name="packed">The announce as the script reads it.</param>
    /// <param name="orderKey">Announces with the same key apply in the order they were queued (the caller's hash of swarm and peer).</param>
    public Task<AnnounceWrite> WriteAsync(byte[] packed, int orderKey)
    {
        var pending = new Pending(packed, _time.GetTimestamp());
        if (!_queues[(int)((uint)orderKey % Writers)].Writer.TryWrite(pending))
        {
            throw new PeerStoreUnavailableException($"The Redis peer store has {Capacity / Writers} announces queued for one writer: Redis is not keeping up.");
        }

        return pending.Result.Task;
    }

    private async Task LoopAsync(ChannelReader<Pending> reader)
    {
        var batch = new List<Pending>(MaxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var now = _time.GetTimestamp();
            PeerStoreUnavailableException? expired = null;
            while (batch.Count < MaxBatch && reader.TryRead(out var pending))
            {
                if (now - pending.QueuedAt > _queueTimeoutTicks)
                {
                    // Its announcer has waited long enough (and may have given up): fail it rather than apply it late.
                    expired ??= new PeerStoreUnavailableException(
                        $"An announce waited longer than Tracker:Redis:QueueTimeout ({_queueTimeout}) for the Redis peer store: Redis is not keeping up.");
                    pending.Result.TrySetException(expired);
                    continue;
                }

                batch.Add(pending);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            await SendAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }
    }

    private async Task SendAsync(List<Pending> batch)
    {
        try
        {
            var common = _common();
            var values = new RedisValue[common.Length + batch.Count];
            common.CopyTo(values, 0);
            for (var i = 0; i < batch.Count; i++)
            {
                values[common.Length + i] = batch[i].Packed;
            }

            Interlocked.Increment(ref _batches);
            var reply = (RedisResult[])(await _run(values).ConfigureAwait(false))!;
            if (reply.Length != 2 + (4 * batch.Count))
            {
                throw new PeerStoreUnavailableException($"The Redis peer store answered {reply.Length} values for a batch of {batch.Count} announces.");
            }

            var peers = (long)reply[0];
            var swarms = (long)reply[1];
            for (var i = 0; i < batch.Count; i++)
            {
                var at = 2 + (4 * i);
                batch[i].Result.TrySetResult(new AnnounceWrite((int)reply[at], (long)reply[at + 1], (long)reply[at + 2], (long)reply[at + 3], peers, swarms));
            }
        }
        catch (Exception ex)
        {
            // Every announce of the batch hears of it (the caller maps PeerStoreUnavailableException to a refusal).
            var failure = ex as PeerStoreUnavailableException ?? new PeerStoreUnavailableException($"Redis peer store unavailable: {ex.Message}", ex);
            foreach (var pending in batch)
            {
                pending.Result.TrySetException(failure);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        await Task.WhenAll(_loops).ConfigureAwait(false);
    }

    private sealed class Pending(byte[] packed, long queuedAt)
    {
        public byte[] Packed { get; } = packed;

        /// <summary>When it was queued (<see cref="TimeProvider.GetTimestamp"/>).</summary>
        public long QueuedAt { get; } = queuedAt;

        public TaskCompletionSource<AnnounceWrite> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>One announce's part of a batch's reply: its outcome code (<see cref="RedisScripts.Announce"/>), its swarm's live members per group (-1: not asked), and the store's totals after the batch.</summary>
internal readonly record struct AnnounceWrite(int Outcome, long Complete, long Incomplete, long Origins, long Peers, long Swarms);

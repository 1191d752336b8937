using System.Diagnostics;
using P2PRegistry.Core.MetaInfos;
using StackExchange.Redis;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// Peers of every swarm in Redis, so any number of tracker replicas serve the same swarms. Announces are written in
/// batches (<see cref="RedisAnnounceWriter"/>: group commit, one script call, <see cref="RedisScripts.Announce"/>, for
/// the announces that arrived while the last one ran: ownership, quotas and the write, atomically on the server), then
/// each reads its candidates in one round trip bounded by what the handout needs (<see cref="ReadCandidatesAsync"/>),
/// or takes them from the short-lived per-swarm cache (<see cref="CandidateCache"/>, when
/// <see cref="RedisPeerStoreSettings.CandidateCacheTtl"/> is on). Time comes from this process's <see cref="TimeProvider"/> (trackers' clocks
/// are kept by NTP; a skew of a second or two only shifts expiry by as much).
/// When Redis cannot be reached, every call fails at once with <see cref="PeerStoreUnavailableException"/> and the
/// connection is retried in the background. Behind a Redis that is connected but slow, announces do queue: each waits
/// at most <see cref="RedisPeerStoreSettings.QueueTimeout"/> in the writer's queue (then fails, unsent) plus one batch's
/// <c>asyncTimeout</c>; a read waits at most <c>asyncTimeout</c>.
/// </summary>
internal sealed class RedisPeerStore : IPeerStore, IAsyncDisposable, IDisposable
{
    /// <summary>Expired peers of one group of one swarm one sweep script call drops, at most.</summary>
    internal const int PruneBatch = 256;

    /// <summary>Idle swarms one sweep script call drops, and active swarms it scans; a sweep makes at most <see cref="MaxSweepBatches"/> calls.</summary>
    internal const int SweepBatch = 128;

    internal const int MaxSweepBatches = 64;

    /// <summary>The sweep script's cursor for "skip the scan of active swarms" (ZSCAN cursors are numbers).</summary>
    private const string NoScan = "-";

    private static readonly TimeSpan s_logPeriod = TimeSpan.FromSeconds(30);

    /// <summary>How long an operation waits for the first connection (at start) before failing: never a whole connect timeout.</summary>
    private static readonly TimeSpan s_firstConnectWait = TimeSpan.FromSeconds(1);
    private static readonly PeerRecord[] s_noPeers = [];

    /// <summary>Decoded members kept, at most; past it the cache starts again empty (members change with their peers' state).</summary>
    internal const int MaxDecodedMembers = 1 << 16;

    private readonly PeerStoreOptions _options;
    private readonly RedisPeerStoreSettings _settings;
    private readonly TimeProvider _time;
    private readonly RedisPeerStoreMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Task<ConnectionMultiplexer> _redis;
    private readonly bool _ownsConnection;
    private readonly RedisKey _addressesKey;
    private readonly RedisKey _swarmsKey;
    private readonly RedisKey _countersKey;
    private readonly RedisAnnounceWriter _writer;
    private readonly CandidateCache? _candidates;

    // Members as decoded before, by their bytes: a member is read by many announces between two of its peer's, and its
    // record (with its cached gRPC encoding) is reused rather than decoded and encoded again for each.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<byte[], PeerRecord> _decoded = new(MemberComparer.Instance);
    private long _peers;
    private long _swarms;
    private long _failures;
    private long _lastLoggedAt = long.MinValue;

    // Where the scan of active swarms goes on at the next sweep ("0": from the start).
    private string _sweepCursor = "0";

    public RedisPeerStore(PeerStoreOptions options, RedisPeerStoreSettings settings, TimeProvider time, RedisPeerStoreMetrics metrics, ILogger<RedisPeerStore> logger)
        : this(options, settings, time, metrics, logger, connection: null)
    {
    }

    /// <param name="connection">A connection to use (and leave open) instead of opening one: tests share one.</param>
    internal RedisPeerStore(PeerStoreOptions options, RedisPeerStoreSettings settings, TimeProvider time, RedisPeerStoreMetrics metrics, ILogger<RedisPeerStore> logger, Task<ConnectionMultiplexer>? connection)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.PeerTtl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.SampleSize, 1);
        _options = options;
        _settings = settings;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _addressesKey = settings.KeyPrefix + "addresses";
        _swarmsKey = settings.KeyPrefix + "swarms";
        _countersKey = settings.KeyPrefix + "counters";
        // Connected in the background (never blocking a thread here). With AbortOnConnectFail off the task completes
        // after the first attempt, successful or not; an operation waits for it at most s_firstConnectWait.
        var redisOptions = ConnectionOptions(settings.Configuration);
        logger.RedisConfigured(string.Join(",", redisOptions.EndPoints.Select(e => e.ToString())), settings.KeyPrefix);
        _ownsConnection = connection is null;
        _redis = connection ?? ConnectionMultiplexer.ConnectAsync(redisOptions);
        RedisKey[] batchKeys = [_addressesKey, _swarmsKey, _countersKey];
        _writer = new RedisAnnounceWriter(values => RunAsync("announce", db => db.ScriptEvaluateAsync(RedisScripts.Announce, batchKeys, values)), BatchArguments, time, settings.QueueTimeout);
        _candidates = settings.CandidateCacheTtl > TimeSpan.Zero ? new CandidateCache(time, settings.CandidateCacheTtl, settings.CandidateCacheEntries) : null;
    }

    /// <summary>
    /// The operator's configuration string, with what the store needs on top unless the string says otherwise:
    /// never give up on the connection (it comes back by itself), fail commands at once while disconnected, and a
    /// short timeout so an announce never waits longer than an agent does.
    /// </summary>
    internal static ConfigurationOptions ConnectionOptions(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy ??= new ExponentialRetry(250, 2000);
        if (!configuration.Contains("asyncTimeout=", StringComparison.OrdinalIgnoreCase))
        {
            options.AsyncTimeout = 2000;
        }

        options.ClientName ??= "p2pregistry-tracker";
        return options;
    }

    public async ValueTask<PeerStoreAnnounceResult> AnnounceAsync(InfoHash infoHash, PeerRecord peer, AnnounceEvent announceEvent, CancellationToken cancellationToken, bool quotaExempt = false, int candidates = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(candidates, 1);
        var now = _time.GetUtcNow();
        var cutoff = (now - _options.PeerTtl).ToUnixTimeMilliseconds();
        var stop = announceEvent == AnnounceEvent.Stopped;
        IReadOnlyList<PeerRecord> cached = s_noPeers;
        var hit = !stop && _candidates is not null && _candidates.TryGet(infoHash, out cached);
        var hex = infoHash.ToHex();
        var packed = Pack(hex, peer, stop, quotaExempt, counts: !hit);
        // One peer's announces to one swarm apply in the order they came (a stop after a start never lands first).
        var write = await _writer.WriteAsync(packed, HashCode.Combine(infoHash, peer.Id)).WaitAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _peers, write.Peers);
        Volatile.Write(ref _swarms, write.Swarms);
        var outcome = write.Outcome switch
        {
            1 => PeerStoreOutcome.Stored,
            2 => PeerStoreOutcome.Removed,
            3 => PeerStoreOutcome.PeerIdOwnedElsewhere,
            4 => PeerStoreOutcome.SwarmFull,
            5 => PeerStoreOutcome.TooManySwarms,
            6 => PeerStoreOutcome.SwarmAddressQuota,
            7 => PeerStoreOutcome.AddressQuota,
            8 => PeerStoreOutcome.TooManyPeers,
            var other => throw new PeerStoreUnavailableException($"The Redis peer store answered an unknown outcome {other}."),
        };

        if (outcome == PeerStoreOutcome.Removed)
        {
            // Gone from this tracker's answers at once (from other trackers' within their cache's TTL).
            _candidates?.Remove(infoHash);
        }

        if (outcome is not (PeerStoreOutcome.Stored or PeerStoreOutcome.SwarmFull))
        {
            return new PeerStoreAnnounceResult(outcome, s_noPeers);
        }

        var wanted = Math.Min(candidates, _settings.SampleSize);
        if (hit)
        {
            return new PeerStoreAnnounceResult(outcome, Head(cached, wanted));
        }

        long[] live = [write.Complete, write.Incomplete, write.Origins];
        if (_candidates is null)
        {
            return new PeerStoreAnnounceResult(outcome, await ReadCandidatesAsync(GroupKeys(hex), live, wanted, cutoff, hex).ConfigureAwait(false));
        }

        // Read for the cache: the store's whole sample, whatever this announce wants of it.
        var read = (await ReadCandidatesAsync(GroupKeys(hex), live, _settings.SampleSize, cutoff, hex).ConfigureAwait(false)).ToArray();
        _candidates.Set(infoHash, read, now);
        return new PeerStoreAnnounceResult(outcome, Head(read, wanted));
    }

    private static IReadOnlyList<PeerRecord> Head(IReadOnlyList<PeerRecord> peers, int count) =>
        peers.Count <= count ? peers : peers is PeerRecord[] array ? new ArraySegment<PeerRecord>(array, 0, count) : peers.Take(count).ToArray();

    /// <summary>One announce for <see cref="RedisScripts.Announce"/>: mode · exempt · counts · group · quota key length · info hash hex · quota key · member.</summary>
    private static byte[] Pack(string hex, PeerRecord peer, bool stop, bool quotaExempt, bool counts)
    {
        var quotaKey = RedisPeerRecord.QuotaKey(peer.Address);
        var member = RedisPeerRecord.Encode(peer);
        var packed = new byte[5 + hex.Length + quotaKey.Length + member.Length];
        packed[0] = stop ? (byte)'s' : (byte)'a';
        packed[1] = quotaExempt ? (byte)'1' : (byte)'0';
        packed[2] = counts ? (byte)'1' : (byte)'0';
        packed[3] = (byte)RedisPeerRecord.Group(peer);
        packed[4] = (byte)quotaKey.Length;
        System.Text.Encoding.ASCII.GetBytes(hex, packed.AsSpan(5));
        quotaKey.CopyTo(packed, 5 + hex.Length);
        member.CopyTo(packed, 5 + hex.Length + quotaKey.Length);
        return packed;
    }

    /// <summary>What every batch's script call starts with: the prefix, the time, and the limits.</summary>
    private RedisValue[] BatchArguments()
    {
        var now = _time.GetUtcNow();
        return
        [
            _settings.KeyPrefix,
            now.ToUnixTimeMilliseconds(),
            (now - _options.PeerTtl).ToUnixTimeMilliseconds(),
            _options.MaxSwarms,
            _options.MaxPeersPerSwarm,
            _options.MaxPeers,
            _options.MaxPeersPerAddress,
            _options.MaxPeersPerAddressPerSwarm,
        ];
    }

    /// <summary>Script calls that wrote announces so far (each one batch of one or more).</summary>
    internal long WriteBatches => _writer.Batches;

    /// <summary>
    /// Up to <paramref name="wanted"/> live peers, group by group in handout order (complete agents, incomplete agents,
    /// origins), from the groups' live sizes (<paramref name="live"/>: expired members, still there until the sweep, take
    /// no place): a group that fits whole is read whole (its live members, by score), the one that does not is sampled
    /// (<see cref="SampleAsync"/>: two windows of its live members by rank at random places), the groups after it are
    /// not read. All reads go out at once, one round trip; when the sample comes back short (members that expired or
    /// moved since they were counted), a second read tops it up with live members by score.
    /// </summary>
    private async Task<List<PeerRecord>> ReadCandidatesAsync(RedisKey[] groups, long[] live, int wanted, long cutoff, string hex)
    {
        var takes = new int[groups.Length];
        var sampled = -1;
        var budget = wanted;
        for (var g = 0; g < groups.Length && budget > 0; g++)
        {
            takes[g] = (int)Math.Min(live[g], budget);
            if (live[g] > budget)
            {
                sampled = g;
            }

            budget -= takes[g];
        }

        var samples = await RunAsync("read", db =>
        {
            var reads = new Task<SortedSetEntry[]>[groups.Length];
            for (var g = 0; g < groups.Length; g++)
            {
                reads[g] = takes[g] == 0 ? Task.FromResult(Array.Empty<SortedSetEntry>())
                    : g == sampled ? SampleAsync(db, groups[g], live[g], takes[g])
                    : LiveAsync(db, groups[g], cutoff, takes[g]);
            }

            return Task.WhenAll(reads);
        }).ConfigureAwait(false);

        var peers = new List<PeerRecord>(Math.Min(wanted, 256));
        for (var g = 0; g < samples.Length; g++)
        {
            var taken = Take(samples[g], takes[g], cutoff, hex, peers, null);
            if (g == sampled && taken < takes[g])
            {
                var more = await RunAsync("read", db => LiveAsync(db, groups[g], cutoff, takes[g])).ConfigureAwait(false);
                var have = peers.Skip(peers.Count - taken).Select(p => p.Id).ToHashSet();
                Take(more, takes[g] - taken, cutoff, hex, peers, have);
            }
        }

        return peers;
    }

    /// <summary>
    /// A uniform sample of <paramref name="count"/> of a group's <paramref name="live"/> live members, read by rank: a
    /// group is ordered by last announce, so its live members are its last <paramref name="live"/> ranks. Two disjoint
    /// windows of them (half the sample each, on a ring of the live ranks) at random places: each live member is read
    /// with the same probability, count / live, for the cost of walking to the windows (O(log n) each) — ZRANDMEMBER
    /// drew each member by its own random probes of the set's hash table, most of Redis's CPU per announce.
    /// Members that expired or moved since the count come back too; the caller skips them and tops up.
    /// </summary>
    private static async Task<SortedSetEntry[]> SampleAsync(IDatabase db, RedisKey group, long live, int count)
    {
        var first = (count + 1) / 2;
        var second = count - first;
        var start = Random.Shared.NextInt64(live);
        // The second window starts anywhere past the first that leaves it room before the first comes round again.
        var secondStart = (start + first + Random.Shared.NextInt64(live - count + 1)) % live;
        var reads = new List<Task<SortedSetEntry[]>>(4);
        Window(db, group, live, start, first, reads);
        Window(db, group, live, secondStart, second, reads);
        var parts = await Task.WhenAll(reads).ConfigureAwait(false);
        return parts.Length == 1 ? parts[0] : [.. parts.SelectMany(p => p)];
    }

    // Live ranks 0..live-1 are the set's ranks -live..-1 (from the end); a window past the last wraps to the first.
    private static void Window(IDatabase db, RedisKey group, long live, long start, long length, List<Task<SortedSetEntry[]>> reads)
    {
        if (length <= 0)
        {
            return;
        }

        var end = Math.Min(start + length, live);
        reads.Add(db.SortedSetRangeByRankWithScoresAsync(group, start - live, end - live - 1));
        if (start + length > live)
        {
            reads.Add(db.SortedSetRangeByRankWithScoresAsync(group, -live, start + length - live - live - 1));
        }
    }

    /// <summary>Up to <paramref name="count"/> live members of a group (last seen at or after the cutoff), oldest first.</summary>
    private static Task<SortedSetEntry[]> LiveAsync(IDatabase db, RedisKey group, long cutoff, int count) =>
        db.SortedSetRangeByScoreWithScoresAsync(group, cutoff, double.PositiveInfinity, Exclude.None, Order.Ascending, 0, count);

    /// <summary>Adds up to <paramref name="places"/> live, decodable members not in <paramref name="skip"/> to <paramref name="peers"/>; how many it added.</summary>
    private int Take(SortedSetEntry[] entries, int places, long cutoff, string hex, List<PeerRecord> peers, HashSet<PeerId>? skip)
    {
        var taken = 0;
        foreach (var entry in entries)
        {
            if (taken == places)
            {
                break;
            }

            var lastSeen = (long)entry.Score;
            if (lastSeen < cutoff)
            {
                continue;
            }

            if (!TryDecode(((ReadOnlyMemory<byte>)entry.Element).Span, DateTimeOffset.FromUnixTimeMilliseconds(lastSeen), out var record))
            {
                _logger.RedisRecordInvalid(hex);
            }
            else if (skip is null || !skip.Contains(record.Id))
            {
                peers.Add(record);
                taken++;
            }
        }

        return taken;
    }

    private bool TryDecode(ReadOnlySpan<byte> member, DateTimeOffset lastSeen, out PeerRecord record)
    {
        var decoded = _decoded.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (decoded.TryGetValue(member, out var known))
        {
            if (known.LastSeen == lastSeen)
            {
                record = known;
                return true;
            }

            record = known.WithLastSeen(lastSeen);
            if (known.GrpcEncoding is null)
            {
                // Not encoded yet: keep the copy, which the handout may encode, so later reads share its encoding.
                decoded[member] = record;
            }

            return true;
        }

        if (!RedisPeerRecord.TryDecode(member, lastSeen, out record))
        {
            return false;
        }

        if (_decoded.Count >= MaxDecodedMembers)
        {
            _decoded.Clear();
        }

        _decoded.TryAdd(member.ToArray(), record);
        return true;
    }

    public async ValueTask<bool> HasSwarmAsync(InfoHash infoHash, CancellationToken cancellationToken)
    {
        var cutoff = (_time.GetUtcNow() - _options.PeerTtl).ToUnixTimeMilliseconds();
        var groups = GroupKeys(infoHash.ToHex());
        var live = await RunAsync("has_swarm", db => Task.WhenAll(groups.Select(key => db.SortedSetLengthAsync(key, cutoff, double.PositiveInfinity)))).ConfigureAwait(false);
        return live.Any(n => n > 0);
    }

    /// <summary>
    /// Drops idle swarms (all their peers expired) and, going on from where the last sweep stopped, the expired peers of
    /// active ones: each script call handles <see cref="SweepBatch"/> swarms of each kind and at most
    /// <see cref="PruneBatch"/> expired peers per group of a swarm; a sweep makes at most <see cref="MaxSweepBatches"/>
    /// calls, so however many swarms there are, one sweep is bounded and the next one carries on.
    /// </summary>
    public async ValueTask<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = (_time.GetUtcNow() - _options.PeerTtl).ToUnixTimeMilliseconds();
        RedisKey[] keys = [_swarmsKey, _addressesKey, _countersKey];
        var dropped = 0;
        var scanned = false;
        for (var batch = 0; batch < MaxSweepBatches; batch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var cursor = scanned ? NoScan : Volatile.Read(ref _sweepCursor);
            RedisValue[] values = [_settings.KeyPrefix, cutoff, SweepBatch, cursor, PruneBatch];
            var reply = (RedisResult[])(await RunAsync("sweep", db => db.ScriptEvaluateAsync(RedisScripts.Sweep, keys, values)).ConfigureAwait(false))!;
            dropped += (int)reply[0];
            Volatile.Write(ref _peers, (long)reply[3]);
            Volatile.Write(ref _swarms, (long)reply[4]);
            if (!scanned)
            {
                var next = (string?)reply[2] ?? "0";
                Volatile.Write(ref _sweepCursor, next);
                scanned = next == "0";
            }

            if ((int)reply[1] < SweepBatch && scanned)
            {
                break;
            }
        }

        return dropped;
    }

    /// <summary>The counts as of the last reply from Redis (across all trackers sharing it).</summary>
    public PeerStoreStatistics GetStatistics() => new(Volatile.Read(ref _swarms), Volatile.Read(ref _peers));

    /// <summary>One round trip, for <c>/readyz</c>; throws <see cref="PeerStoreUnavailableException"/> when Redis does not answer.</summary>
    public async Task PingAsync()
    {
        if (!_redis.IsCompletedSuccessfully || !_redis.Result.IsConnected)
        {
            _metrics.Failed("ping");
            throw new PeerStoreUnavailableException("not connected to Redis");
        }

        await RunAsync("ping", db => db.PingAsync()).ConfigureAwait(false);
    }

    private RedisKey SwarmKey(char kind, string hex) => string.Concat(_settings.KeyPrefix, kind.ToString(), ":", hex);

    /// <summary>The swarm's group sets in handout order: complete agents, incomplete agents, origins.</summary>
    private RedisKey[] GroupKeys(string hex) => [SwarmKey('c', hex), SwarmKey('i', hex), SwarmKey('o', hex)];

    private async Task<T> RunAsync<T>(string operation, Func<IDatabase, Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        T result;
        try
        {
            var redis = await _redis.WaitAsync(s_firstConnectWait).ConfigureAwait(false);
            result = await call(redis.GetDatabase()).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _metrics.Failed(operation);
            Failed(operation, ex);
            throw new PeerStoreUnavailableException($"Redis peer store unavailable: {ex.Message}", ex);
        }

        _metrics.Completed(operation, Stopwatch.GetElapsedTime(started));
        if (Interlocked.Exchange(ref _failures, 0) is var failures and > 0)
        {
            _logger.RedisRecovered(failures);
        }

        return result;
    }

    // Logged once per period, not once per announce: a dead Redis under load would otherwise flood the log.
    private void Failed(string operation, Exception exception)
    {
        Interlocked.Increment(ref _failures);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastLoggedAt);
        if ((last == long.MinValue || now - last >= (long)s_logPeriod.TotalMilliseconds) && Interlocked.CompareExchange(ref _lastLoggedAt, now, last) == last)
        {
            _logger.RedisUnavailable(operation, exception.Message, s_logPeriod);
        }
    }

    public void Dispose()
    {
        _writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (_ownsConnection && _redis.IsCompletedSuccessfully)
        {
            _redis.Result.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync().ConfigureAwait(false);
        if (!_ownsConnection)
        {
            return;
        }

        try
        {
            await (await _redis.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // Never connected: nothing to close.
        }
    }

    /// <summary>Members compared by their bytes, looked up by a span of them (no copy per lookup).</summary>
    private sealed class MemberComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static MemberComparer Instance { get; } = new();

        public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}

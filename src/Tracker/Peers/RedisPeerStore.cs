using System.Diagnostics;
using System.Globalization;
using P2PRegistry.Core.MetaInfos;
using StackExchange.Redis;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// Peers of every swarm in Redis, so any number of tracker replicas serve the same swarms. Each announce is one
/// script call (<see cref="RedisScripts.Announce"/>): ownership, quotas, insert and a bounded read of the swarm
/// happen atomically on the server. Time comes from this process's <see cref="TimeProvider"/> (trackers' clocks
/// are kept by NTP; a skew of a second or two only shifts expiry by as much).
/// When Redis cannot be reached, every call fails at once with <see cref="PeerStoreUnavailableException"/> (no
/// queueing behind a dead connection) and the connection is retried in the background.
/// </summary>
internal sealed class RedisPeerStore : IPeerStore, IAsyncDisposable, IDisposable
{
    /// <summary>Expired peers one announce drops from its own swarm, at most; the sweeper drops idle swarms.</summary>
    internal const int PruneBatch = 64;

    /// <summary>Idle swarms one sweep script drops; a sweep runs it at most <see cref="MaxSweepBatches"/> times.</summary>
    internal const int SweepBatch = 128;

    internal const int MaxSweepBatches = 64;

    private static readonly TimeSpan s_logPeriod = TimeSpan.FromSeconds(30);

    /// <summary>How long an operation waits for the first connection (at start) before failing: never a whole connect timeout.</summary>
    private static readonly TimeSpan s_firstConnectWait = TimeSpan.FromSeconds(1);
    private static readonly PeerRecord[] s_noPeers = [];

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
    private long _peers;
    private long _swarms;
    private long _failures;
    private long _lastLoggedAt = long.MinValue;

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

    public async ValueTask<PeerStoreAnnounceResult> AnnounceAsync(InfoHash infoHash, PeerRecord peer, AnnounceEvent announceEvent, CancellationToken cancellationToken, bool quotaExempt = false)
    {
        var now = _time.GetUtcNow();
        var hex = infoHash.ToHex();
        var stop = announceEvent == AnnounceEvent.Stopped;
        RedisKey[] keys = [SwarmKey('t', hex), SwarmKey('p', hex), SwarmKey('a', hex), _addressesKey, _swarmsKey, _countersKey];
        RedisValue[] values =
        [
            hex,
            peer.Id.ToArray(),
            peer.Address.ToString(),
            RedisPeerRecord.QuotaKey(peer.Address),
            RedisPeerRecord.Encode(peer),
            now.ToUnixTimeMilliseconds(),
            (now - _options.PeerTtl).ToUnixTimeMilliseconds(),
            stop ? "s" : "a",
            quotaExempt ? "1" : "0",
            _options.MaxSwarms,
            _options.MaxPeersPerSwarm,
            _options.MaxPeers,
            _options.MaxPeersPerAddress,
            _options.MaxPeersPerAddressPerSwarm,
            _settings.SampleSize,
            PruneBatch,
        ];

        var reply = (RedisResult[])(await RunAsync(stop ? "stop" : "announce", db => db.ScriptEvaluateAsync(RedisScripts.Announce, keys, values)).ConfigureAwait(false))!;
        Volatile.Write(ref _peers, (long)reply[1]);
        Volatile.Write(ref _swarms, (long)reply[2]);
        var outcome = (string?)reply[0] switch
        {
            "stored" => PeerStoreOutcome.Stored,
            "removed" => PeerStoreOutcome.Removed,
            "owned" => PeerStoreOutcome.PeerIdOwnedElsewhere,
            "swarm_full" => PeerStoreOutcome.SwarmFull,
            "too_many_swarms" => PeerStoreOutcome.TooManySwarms,
            "swarm_address_quota" => PeerStoreOutcome.SwarmAddressQuota,
            "address_quota" => PeerStoreOutcome.AddressQuota,
            "too_many_peers" => PeerStoreOutcome.TooManyPeers,
            var other => throw new PeerStoreUnavailableException($"The Redis peer store answered an unknown outcome '{other}'."),
        };

        if (reply.Length == 3)
        {
            return new PeerStoreAnnounceResult(outcome, s_noPeers);
        }

        var peers = new List<PeerRecord>((reply.Length - 3) / 3);
        for (var i = 3; i + 2 < reply.Length; i += 3)
        {
            var id = (byte[]?)reply[i];
            var lastSeen = long.Parse((string)reply[i + 1]!, NumberStyles.Integer, CultureInfo.InvariantCulture);
            if (id is { Length: PeerId.Length }
                && RedisPeerRecord.TryDecode(new PeerId(id), (string)reply[i + 2]!, DateTimeOffset.FromUnixTimeMilliseconds(lastSeen), out var record))
            {
                peers.Add(record);
            }
            else
            {
                _logger.RedisRecordInvalid(hex);
            }
        }

        return new PeerStoreAnnounceResult(outcome, peers);
    }

    public async ValueTask<bool> HasSwarmAsync(InfoHash infoHash, CancellationToken cancellationToken)
    {
        var cutoff = (_time.GetUtcNow() - _options.PeerTtl).ToUnixTimeMilliseconds();
        var key = SwarmKey('t', infoHash.ToHex());
        return await RunAsync("has_swarm", db => db.SortedSetLengthAsync(key, cutoff, double.PositiveInfinity)).ConfigureAwait(false) > 0;
    }

    public async ValueTask<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = (_time.GetUtcNow() - _options.PeerTtl).ToUnixTimeMilliseconds();
        RedisKey[] keys = [_swarmsKey, _addressesKey, _countersKey];
        RedisValue[] values = [_settings.KeyPrefix, cutoff, SweepBatch];
        var dropped = 0;
        for (var batch = 0; batch < MaxSweepBatches; batch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var reply = (RedisResult[])(await RunAsync("sweep", db => db.ScriptEvaluateAsync(RedisScripts.Sweep, keys, values)).ConfigureAwait(false))!;
            dropped += (int)reply[0];
            Volatile.Write(ref _peers, (long)reply[2]);
            Volatile.Write(ref _swarms, (long)reply[3]);
            if ((int)reply[1] < SweepBatch)
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
        if (_ownsConnection && _redis.IsCompletedSuccessfully)
        {
            _redis.Result.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
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
}

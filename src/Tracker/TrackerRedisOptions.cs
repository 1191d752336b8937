namespace P2PRegistry.Tracker;

/// <summary>The Redis shared by tracker replicas, section <c>Tracker:Redis</c> (used when <c>Tracker:PeerStore=Redis</c>).</summary>
internal sealed class TrackerRedisOptions
{
    /// <summary>A StackExchange.Redis configuration string: <c>host:port[,host:port…][,password=…][,ssl=true][,asyncTimeout=ms]</c>.</summary>
    public string Configuration { get; set; } = string.Empty;

    /// <summary>Prepended to every key, so one Redis can hold several clusters' peers apart.</summary>
    public string KeyPrefix { get; set; } = "p2pregistry:";

    /// <summary>
    /// How long a swarm's sample of peers, once read from Redis, answers this tracker's announces to that swarm
    /// (zero: every announce reads its own). Peers that joined or left since are seen that much later.
    /// </summary>
    public TimeSpan CandidateCacheTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Swarms whose sample is cached, at most (past it the cache starts again empty).</summary>
    public int CandidateCacheEntries { get; set; } = 8192;

    /// <summary>
    /// How long an announce may wait in the queue of writes to Redis (behind a slow but connected Redis) before it fails
    /// unsent: the announcer hears an error and retries. Its answer comes within this plus the connection's
    /// <c>asyncTimeout</c>, which together stay under the agent's tracker timeout (10 s).
    /// </summary>
    public TimeSpan QueueTimeout { get; set; } = DefaultQueueTimeout;

    public static readonly TimeSpan DefaultQueueTimeout = TimeSpan.FromSeconds(3);

    public static readonly TimeSpan MinQueueTimeout = TimeSpan.FromMilliseconds(50);

    public static readonly TimeSpan MaxQueueTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The longest <see cref="CandidateCacheTtl"/>: well under any announce interval.</summary>
    public static readonly TimeSpan MaxCandidateCacheTtl = TimeSpan.FromSeconds(30);

    public const int MaxCandidateCacheEntries = 1_000_000;

    public IEnumerable<string> Validate(string section)
    {
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            yield return $"{section}:Configuration must name the Redis server (a StackExchange.Redis configuration string, e.g. redis:6379) when Tracker:PeerStore is Redis.";
        }
        else
        {
            string? error = null;
            try
            {
                if (StackExchange.Redis.ConfigurationOptions.Parse(Configuration).EndPoints.Count == 0)
                {
                    error = $"{section}:Configuration names no endpoint (host:port).";
                }
            }
            catch (ArgumentException ex)
            {
                // The message names the bad key, never the password (which may be in the string).
                error = $"{section}:Configuration is not a valid StackExchange.Redis configuration string: {ex.Message}";
            }

            if (error is not null)
            {
                yield return error;
            }
        }

        if (CandidateCacheTtl < TimeSpan.Zero || CandidateCacheTtl > MaxCandidateCacheTtl)
        {
            yield return $"{section}:CandidateCacheTtl must be between 00:00:00 (off) and {MaxCandidateCacheTtl}, got {CandidateCacheTtl}.";
        }

        if (QueueTimeout < MinQueueTimeout || QueueTimeout > MaxQueueTimeout)
        {
            yield return $"{section}:QueueTimeout must be between {MinQueueTimeout} and {MaxQueueTimeout}, got {QueueTimeout}.";
        }

        if (CandidateCacheEntries < 1 || CandidateCacheEntries > MaxCandidateCacheEntries)
        {
            yield return $"{section}:CandidateCacheEntries must be between 1 and {MaxCandidateCacheEntries}, got {CandidateCacheEntries}.";
        }

        if (string.IsNullOrEmpty(KeyPrefix) || KeyPrefix.Length > 64 || KeyPrefix.Any(char.IsWhiteSpace))
        {
            yield return $"{section}:KeyPrefix must be 1..64 characters without spaces, e.g. p2pregistry:, got '{KeyPrefix}'.";
        }
    }
}

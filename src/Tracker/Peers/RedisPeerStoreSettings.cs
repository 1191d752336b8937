namespace P2PRegistry.Tracker.Peers;

/// <summary>Where the Redis peer store keeps its data, resolved from <c>Tracker:Redis</c>.</summary>
/// <param name="Configuration">A StackExchange.Redis configuration string, e.g. <c>redis:6379,password=…</c>.</param>
/// <param name="KeyPrefix">Prepended to every key, so several clusters (or tests) can share one Redis.</param>
/// <param name="SampleSize">The most peers one announce reads back from a swarm (the handout is chosen from them).</param>
/// <param name="CandidateCacheTtl">How long a swarm's sample, once read, answers this tracker's announces to it (<see cref="CandidateCache"/>); zero: every announce reads its own.</param>
/// <param name="CandidateCacheEntries">Swarms whose sample is cached, at most.</param>
internal sealed record RedisPeerStoreSettings(string Configuration, string KeyPrefix, int SampleSize, TimeSpan CandidateCacheTtl = default, int CandidateCacheEntries = 8192)
{
    /// <summary>How long an announce may wait in the writer's queue before it fails unsent (<see cref="RedisAnnounceWriter"/>).</summary>
    public TimeSpan QueueTimeout { get; init; } = TrackerRedisOptions.DefaultQueueTimeout;
}

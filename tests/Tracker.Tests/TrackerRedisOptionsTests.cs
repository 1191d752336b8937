namespace P2PRegistry.Tracker.Tests;

public sealed class TrackerRedisOptionsTests
{
    private static List<string> Errors(TrackerOptions options) =>
        [.. new TrackerOptionsValidator().Validate(null, options).Failures ?? []];

    [Theory]
    [InlineData("Redis")]
    [InlineData("redis")]
    public void Validate_RedisWithConfiguration_Succeeds(string store)
    {
        var options = new TrackerOptions { PeerStore = store, Redis = { Configuration = "redis-0.redis:6379,password=s3cret-pass,asyncTimeout=1000" } };

        Assert.Empty(Errors(options));
        Assert.True(options.UsesRedis);
    }

    [Fact]
    public void Validate_MemoryStore_IgnoresTheRedisSection()
    {
        Assert.Empty(Errors(new TrackerOptions { Redis = { Configuration = "", KeyPrefix = "" } }));
    }

    [Fact]
    public void Validate_UnknownStore_NamesTheKeyAndTheChoices()
    {
        Assert.Contains(Errors(new TrackerOptions { PeerStore = "Etcd" }), e => e.Contains("Tracker:PeerStore") && e.Contains("Memory or Redis") && e.Contains("Etcd"));
    }

    [Fact]
    public void Validate_RedisWithoutConfiguration_NamesTheKey()
    {
        Assert.Contains(Errors(new TrackerOptions { PeerStore = "Redis" }), e => e.StartsWith("Tracker:Redis:Configuration", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("redis:6379,notakeyword=1")]
    [InlineData("password=only-a-password")]
    public void Validate_BadConfiguration_NamesTheKeyButNotThePassword(string configuration)
    {
        var errors = Errors(new TrackerOptions { PeerStore = "Redis", Redis = { Configuration = configuration } });

        var error = Assert.Single(errors);
        Assert.StartsWith("Tracker:Redis:Configuration", error, StringComparison.Ordinal);
        Assert.DoesNotContain("only-a-password", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space:")]
    public void Validate_BadKeyPrefix_NamesTheKey(string prefix)
    {
        Assert.Contains(Errors(new TrackerOptions { PeerStore = "Redis", Redis = { Configuration = "127.0.0.1:6379", KeyPrefix = prefix } }), e => e.StartsWith("Tracker:Redis:KeyPrefix", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    [InlineData(31.0)]
    public void Validate_QueueTimeoutOutOfRange_NamesTheKey(double seconds)
    {
        var options = new TrackerOptions { PeerStore = "Redis", Redis = { Configuration = "127.0.0.1:6379", QueueTimeout = TimeSpan.FromSeconds(seconds) } };

        var error = Assert.Single(Errors(options));
        Assert.StartsWith("Tracker:Redis:QueueTimeout must be between", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DefaultQueueTimeout_IsAFewSeconds()
    {
        Assert.Equal(TimeSpan.FromSeconds(3), new TrackerRedisOptions().QueueTimeout);
        Assert.Empty(Errors(new TrackerOptions { PeerStore = "Redis", Redis = { Configuration = "127.0.0.1:6379" } }));
    }

    [Theory]
    [InlineData(-1, 8192, "Tracker:Redis:CandidateCacheTtl")]
    [InlineData(31, 8192, "Tracker:Redis:CandidateCacheTtl")]
    [InlineData(1, 0, "Tracker:Redis:CandidateCacheEntries")]
    public void Validate_BadCandidateCache_NamesTheKey(int ttlSeconds, int entries, string key)
    {
        var options = new TrackerOptions { PeerStore = "Redis", Redis = { Configuration = "127.0.0.1:6379", CandidateCacheTtl = TimeSpan.FromSeconds(ttlSeconds), CandidateCacheEntries = entries } };

        Assert.StartsWith(key, Assert.Single(Errors(options)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CandidateCacheOff_IsFine()
    {
        Assert.Empty(Errors(new TrackerOptions { PeerStore = "Redis", Redis = { Configuration = "127.0.0.1:6379", CandidateCacheTtl = TimeSpan.Zero } }));
    }
}

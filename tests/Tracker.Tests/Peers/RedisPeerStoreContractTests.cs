using Microsoft.Extensions.Logging.Abstractions;
using P2PRegistry.Testing;
using P2PRegistry.Testing.Redis;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Peers;

/// <summary>One redis-server for the Redis store's tests; each test keeps its keys under its own prefix.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    public RedisServerProcess Server { get; private set; } = null!;

    /// <summary>One connection, up before the first test, that the tests' stores share.</summary>
    public Task<StackExchange.Redis.ConnectionMultiplexer> Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await RedisServerProcess.StartAsync();
        Connection = Task.FromResult(await RedisConnections.ConnectAsync(Server.Configuration));
    }

    public async Task DisposeAsync()
    {
        await (await Connection).DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>The store contract against a real redis-server.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class RedisPeerStoreContractTests(RedisServerFixture redis) : PeerStoreContractTests, IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private readonly List<RedisPeerStore> _stores = [];
    private readonly string _prefix = $"test-{Guid.NewGuid():N}:";

    private protected override IPeerStore CreateStore(PeerStoreOptions options)
    {
        var store = new RedisPeerStore(
            options, new RedisPeerStoreSettings(redis.Server.Configuration, _prefix, SampleSize: 100), Time, new RedisPeerStoreMetrics(new TestMeterFactory()), NullLogger<RedisPeerStore>.Instance, redis.Connection);
        _stores.Add(store);
        return store;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
    }
}

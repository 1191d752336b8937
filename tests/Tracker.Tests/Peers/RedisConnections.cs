using System.Diagnostics;
using P2PRegistry.Tracker.Peers;
using StackExchange.Redis;

namespace P2PRegistry.Tracker.Tests.Peers;

internal static class RedisConnections
{
    /// <summary>A connection with the store's options, waited for until it is up (the machine may be busy), for stores the test creates around it.</summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(string configuration)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(RedisPeerStore.ConnectionOptions(configuration));
        var watch = Stopwatch.StartNew();
        while (!connection.IsConnected)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"no connection to Redis at {configuration} within 60 s");
            await Task.Delay(50);
        }

        return connection;
    }
}

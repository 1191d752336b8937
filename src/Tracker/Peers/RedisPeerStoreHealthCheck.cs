using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// With the Redis store, ready while Redis answers a PING: a tracker that cannot record announces should get no
/// traffic. The in-memory store is always ready.
/// </summary>
internal sealed class RedisPeerStoreHealthCheck(IPeerStore peerStore) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (peerStore is not RedisPeerStore store)
        {
            return HealthCheckResult.Healthy();
        }

        try
        {
            await store.PingAsync().ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (PeerStoreUnavailableException ex)
        {
            return HealthCheckResult.Unhealthy(ex.Message);
        }
    }
}

using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm.Bandwidth;

namespace P2PRegistry.Swarm.Tests.Bandwidth;

public sealed class ConnectionLimiterTests
{
    private static readonly InfoHash A = InfoHash.Compute("a"u8);
    private static readonly InfoHash B = InfoHash.Compute("b"u8);

    [Fact]
    public void TryAcquire_PerSwarmLimit()
    {
        var limiter = new ConnectionLimiter(maxTotal: 10, maxPerSwarm: 2);
        Assert.True(limiter.TryAcquire(A));
        Assert.True(limiter.TryAcquire(A));
        Assert.False(limiter.TryAcquire(A));
        Assert.True(limiter.TryAcquire(B));
        limiter.Release(A);
        Assert.True(limiter.TryAcquire(A));
    }

    [Fact]
    public void TryAcquire_TotalLimit()
    {
        var limiter = new ConnectionLimiter(maxTotal: 3, maxPerSwarm: 2);
        Assert.True(limiter.TryAcquire(A));
        Assert.True(limiter.TryAcquire(A));
        Assert.True(limiter.TryAcquire(B));
        Assert.False(limiter.TryAcquire(B));
        Assert.Equal(3, limiter.Total);
        limiter.Release(B);
        limiter.Release(B); // an extra release is harmless
        Assert.Equal(2, limiter.Total);
        Assert.Equal(0, limiter.Count(B));
    }
}

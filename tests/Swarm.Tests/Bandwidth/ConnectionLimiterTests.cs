using System.Net;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm.Bandwidth;

namespace P2PRegistry.Swarm.Tests.Bandwidth;

public sealed class ConnectionLimiterTests
{
    private static readonly InfoHash A = InfoHash.Compute("a"u8);
    private static readonly InfoHash B = InfoHash.Compute("b"u8);
    private static readonly IPAddress First = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress Second = IPAddress.Parse("10.0.0.2");

    [Fact]
    public void TryAcquire_PerSwarmLimit_RefusesThatSwarmOnly()
    {
        var limiter = new ConnectionLimiter(maxTotal: 10, maxPerSwarm: 2);
        Assert.True(limiter.TryAcquire(A, null, out _));
        Assert.True(limiter.TryAcquire(A, null, out _));
        Assert.False(limiter.TryAcquire(A, null, out var refusal));
        Assert.Equal(ConnectionRefusal.PerSwarm, refusal);
        Assert.True(limiter.TryAcquire(B, null, out _));
        limiter.Release(A, null);
        Assert.True(limiter.TryAcquire(A, null, out refusal));
        Assert.Equal(ConnectionRefusal.None, refusal);
    }

    [Fact]
    public void TryAcquire_TotalLimit_RefusesEverySwarm()
    {
        var limiter = new ConnectionLimiter(maxTotal: 3, maxPerSwarm: 2);
        Assert.True(limiter.TryAcquire(A, null, out _));
        Assert.True(limiter.TryAcquire(A, null, out _));
        Assert.True(limiter.TryAcquire(B, null, out _));
        Assert.False(limiter.TryAcquire(B, null, out var refusal));
        Assert.Equal(ConnectionRefusal.Total, refusal);
        Assert.Equal(3, limiter.Total);
        limiter.Release(B, null);
        limiter.Release(B, null); // an extra release is harmless
        Assert.Equal(2, limiter.Total);
        Assert.Equal(0, limiter.Count(B));
    }

    [Fact]
    public void TryAcquire_PerAddressLimit_CountsAcrossSwarmsAndRefusesThatAddressOnly()
    {
        var limiter = new ConnectionLimiter(maxTotal: 10, maxPerSwarm: 10, maxPerAddress: 2);
        Assert.True(limiter.TryAcquire(A, First, out _));
        Assert.True(limiter.TryAcquire(B, First, out _));

        // A third connection from the same address, to either swarm, is over its cap; another address is not.
        Assert.False(limiter.TryAcquire(A, First, out var refusal));
        Assert.Equal(ConnectionRefusal.PerAddress, refusal);
        Assert.False(limiter.TryAcquire(B, First, out _));
        Assert.True(limiter.TryAcquire(A, Second, out _));
        Assert.True(limiter.TryAcquire(A, null, out _)); // no address known (in-memory pipes): not counted per address
        Assert.Equal(2, limiter.Count(First));
        Assert.Equal(4, limiter.Total);

        limiter.Release(B, First);
        Assert.Equal(1, limiter.Count(First));
        Assert.True(limiter.TryAcquire(A, First, out _));
    }

    [Fact]
    public void TryAcquire_Refused_CountsNothing()
    {
        var limiter = new ConnectionLimiter(maxTotal: 10, maxPerSwarm: 1, maxPerAddress: 5);
        Assert.True(limiter.TryAcquire(A, First, out _));
        Assert.False(limiter.TryAcquire(A, First, out _));

        Assert.Equal(1, limiter.Count(First));
        Assert.Equal(1, limiter.Count(A));
        Assert.Equal(1, limiter.Total);
    }

    [Fact]
    public void TryAcquire_IPv4MappedAddress_CountsAsItsIPv4Address()
    {
        // A dual-mode peer port sees IPv4 peers as ::ffff:a.b.c.d; a dial to the same peer uses a.b.c.d.
        var limiter = new ConnectionLimiter(maxTotal: 10, maxPerSwarm: 10, maxPerAddress: 2);
        Assert.True(limiter.TryAcquire(A, First.MapToIPv6(), out _));
        Assert.True(limiter.TryAcquire(B, First, out _));

        Assert.False(limiter.TryAcquire(A, First.MapToIPv6(), out var refusal));
        Assert.Equal(ConnectionRefusal.PerAddress, refusal);
        limiter.Release(A, First.MapToIPv6());
        Assert.Equal(1, limiter.Count(First));
    }

    [Fact]
    public void TryAcquirePending_PerAddressLimit_RefusesThatAddressOnly()
    {
        var limiter = new ConnectionLimiter(maxTotal: 10, maxPerSwarm: 10, maxPending: 10, maxPendingPerAddress: 2);
        Assert.True(limiter.TryAcquirePending(First, out _));
        Assert.True(limiter.TryAcquirePending(First, out _));

        Assert.False(limiter.TryAcquirePending(First, out var refusal));
        Assert.Equal(ConnectionRefusal.PendingPerAddress, refusal);
        Assert.True(limiter.TryAcquirePending(Second, out _));
        Assert.Equal(2, limiter.PendingCount(First));
        Assert.Equal(3, limiter.Pending);

        limiter.ReleasePending(First);
        Assert.True(limiter.TryAcquirePending(First, out _));
    }

    [Fact]
    public void TryAcquirePending_TotalLimit_RefusesEveryAddress()
    {
        var limiter = new ConnectionLimiter(maxTotal: 10, maxPerSwarm: 10, maxPending: 3, maxPendingPerAddress: 2);
        Assert.True(limiter.TryAcquirePending(First, out _));
        Assert.True(limiter.TryAcquirePending(First, out _));
        Assert.True(limiter.TryAcquirePending(Second, out _));

        Assert.False(limiter.TryAcquirePending(IPAddress.Parse("10.0.0.3"), out var refusal));
        Assert.Equal(ConnectionRefusal.PendingTotal, refusal);
        limiter.ReleasePending(Second);
        limiter.ReleasePending(Second); // an extra release is harmless
        Assert.Equal(2, limiter.Pending);
        Assert.Equal(0, limiter.PendingCount(Second));
        Assert.True(limiter.TryAcquirePending(IPAddress.Parse("10.0.0.3"), out _));
    }

    [Fact]
    public void Pending_And_Established_AreCountedApart()
    {
        // A connection is pending until its handshake, then established: one stage's caps never refuse the other's.
        var limiter = new ConnectionLimiter(maxTotal: 1, maxPerSwarm: 1, maxPerAddress: 1, maxPending: 1, maxPendingPerAddress: 1);
        Assert.True(limiter.TryAcquire(A, First, out _));
        Assert.True(limiter.TryAcquirePending(First, out _));

        Assert.Equal(1, limiter.Total);
        Assert.Equal(1, limiter.Pending);
        Assert.Equal(1, limiter.Count(First));
        Assert.Equal(1, limiter.PendingCount(First));
    }

    [Fact]
    public void Constructor_LimitBelowOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionLimiter(10, 10, maxPerAddress: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionLimiter(10, 10, maxPending: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionLimiter(10, 10, maxPendingPerAddress: 0));
    }
}

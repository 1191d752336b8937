using System.Net;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Origin.Authorization;

namespace P2PRegistry.Origin.Tests.Authorization;

public sealed class FailedAttemptLimiterTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void BlocksAfterMaxFailures_UntilTheWindowEnds_OtherClientsUnaffected()
    {
        var limiter = new FailedAttemptLimiter(3, TimeSpan.FromMinutes(1), 100, _time);
        var attacker = IPAddress.Parse("10.0.0.66");
        Assert.False(limiter.RecordFailure(attacker));
        Assert.False(limiter.RecordFailure(attacker));
        Assert.False(limiter.IsBlocked(attacker, out _));
        Assert.True(limiter.RecordFailure(attacker));

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(limiter.IsBlocked(attacker, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(40), retryAfter);
        Assert.False(limiter.IsBlocked(IPAddress.Parse("10.0.0.7"), out _));

        _time.Advance(TimeSpan.FromSeconds(40));
        Assert.False(limiter.IsBlocked(attacker, out _));
        Assert.False(limiter.RecordFailure(attacker));
    }

    [Fact]
    public void Ipv6_CountedPerSlash64_MappedIpv4_AsIpv4()
    {
        var limiter = new FailedAttemptLimiter(2, TimeSpan.FromMinutes(1), 100, _time);
        limiter.RecordFailure(IPAddress.Parse("2001:db8:1:2::1"));
        limiter.RecordFailure(IPAddress.Parse("2001:db8:1:2:ffff::9"));
        Assert.True(limiter.IsBlocked(IPAddress.Parse("2001:db8:1:2::abcd"), out _));
        Assert.False(limiter.IsBlocked(IPAddress.Parse("2001:db8:1:3::1"), out _));

        limiter.RecordFailure(IPAddress.Parse("192.0.2.1"));
        limiter.RecordFailure(IPAddress.Parse("::ffff:192.0.2.1"));
        Assert.True(limiter.IsBlocked(IPAddress.Parse("192.0.2.1"), out _));
    }

    [Fact]
    public void Table_IsBounded_DropsExpiredThenOldest()
    {
        var limiter = new FailedAttemptLimiter(1, TimeSpan.FromMinutes(1), 4, _time);
        for (var i = 0; i < 4; i++)
        {
            limiter.RecordFailure(IPAddress.Parse($"10.0.1.{i}"));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(4, limiter.TrackedClients);
        for (var i = 0; i < 1000; i++)
        {
            limiter.RecordFailure(new IPAddress([10, 2, (byte)(i / 256), (byte)i]));
            Assert.True(limiter.TrackedClients <= 4);
        }

        // The newest clients are still refused; the oldest were dropped to make room.
        Assert.True(limiter.IsBlocked(new IPAddress([10, 2, 3, 231]), out _));
        Assert.False(limiter.IsBlocked(IPAddress.Parse("10.0.1.0"), out _));
    }
}

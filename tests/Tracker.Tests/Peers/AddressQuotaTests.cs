using System.Net;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Peers;

public sealed class AddressQuotaTests
{
    private static readonly IPAddress s_a = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress s_b = IPAddress.Parse("10.0.0.2");

    [Fact]
    public void TryTake_PastTheLimit_IsRefusedPerAddress()
    {
        var quota = new AddressQuota(2);

        Assert.True(quota.TryTake(s_a, exempt: false));
        Assert.True(quota.TryTake(s_a, exempt: false));
        Assert.False(quota.TryTake(s_a, exempt: false));
        Assert.True(quota.TryTake(s_b, exempt: false));
        Assert.Equal(2, quota.CountOf(s_a));
    }

    [Fact]
    public void Release_FreesAPlaceAndForgetsAnAddressAtZero()
    {
        var quota = new AddressQuota(1);
        Assert.True(quota.TryTake(s_a, exempt: false));

        quota.Release(s_a);

        Assert.Equal(0, quota.Addresses);
        Assert.True(quota.TryTake(s_a, exempt: false));
    }

    [Fact]
    public void TryTake_Exempt_IsCountedButNeverRefused()
    {
        var quota = new AddressQuota(1);

        for (var i = 0; i < 5; i++)
        {
            Assert.True(quota.TryTake(s_a, exempt: true));
        }

        Assert.Equal(5, quota.CountOf(s_a));
        Assert.False(quota.TryTake(s_a, exempt: false));
    }

    [Fact]
    public async Task TryTake_Concurrent_NeverPassesTheLimit()
    {
        var quota = new AddressQuota(10);
        var taken = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, 2000), async (i, _) =>
        {
            if (quota.TryTake(s_a, exempt: false))
            {
                Interlocked.Increment(ref taken);
                Assert.True(quota.CountOf(s_a) <= 10);
                await Task.Yield();
                quota.Release(s_a);
                Interlocked.Decrement(ref taken);
            }
        });

        Assert.Equal(0, taken);
        Assert.Equal(0, quota.CountOf(s_a));
        Assert.Equal(0, quota.Addresses);
    }

    [Fact]
    public void TryTake_IPv6_CountsEachSlash64AsOneAddress()
    {
        // A host owning a /64 could otherwise announce from a fresh address each time and pass the quota.
        var quota = new AddressQuota(2);

        Assert.True(quota.TryTake(IPAddress.Parse("2001:db8:0:7::1"), exempt: false));
        Assert.True(quota.TryTake(IPAddress.Parse("2001:db8:0:7::2"), exempt: false));
        Assert.False(quota.TryTake(IPAddress.Parse("2001:db8:0:7:abcd::3"), exempt: false));
        Assert.True(quota.TryTake(IPAddress.Parse("2001:db8:0:8::1"), exempt: false));
        Assert.Equal(2, quota.CountOf(IPAddress.Parse("2001:db8:0:7::99")));

        quota.Release(IPAddress.Parse("2001:db8:0:7::1"));
        Assert.Equal(1, quota.CountOf(IPAddress.Parse("2001:db8:0:7::2")));
    }
}

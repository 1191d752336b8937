using System.Net;
using P2PRegistry.Hosting;

namespace P2PRegistry.Hosting.Tests;

public sealed class ClientKeyTests
{
    [Theory]
    [InlineData("10.1.2.3", "10.1.2.3")]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::")]
    [InlineData("2001:db8:1:3::1", "2001:db8:1:3::")]
    [InlineData("::1", "::")]
    public void Of_IPv4AsItself_IPv6ByItsSlash64(string address, string expected)
    {
        Assert.Equal(IPAddress.Parse(expected), ClientKey.Of(IPAddress.Parse(address)));
    }

    [Fact]
    public void Of_TwoAddressesOfOneSlash64_AreOneClient_TheNextSlash64IsAnother()
    {
        var a = ClientKey.Of(IPAddress.Parse("2001:db8:0:7::10"));
        var b = ClientKey.Of(IPAddress.Parse("2001:db8:0:7:ffff::99"));
        var c = ClientKey.Of(IPAddress.Parse("2001:db8:0:8::10"));

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}

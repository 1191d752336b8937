using System.Net;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Swarm.Peers;

namespace P2PRegistry.Swarm.Tests.Peers;

public sealed class PeerBlacklistTests
{
    private static readonly IPAddress Host = IPAddress.Parse("127.0.0.5");

    [Fact]
    public void Add_WithPort_RefusesOnlyThatPeerOnTheAddress()
    {
        var blacklist = new PeerBlacklist(new FakeTimeProvider(), TimeSpan.FromMinutes(1));
        blacklist.Add(Host, 6882);
        Assert.True(blacklist.Contains(Host, 6882));
        Assert.False(blacklist.Contains(Host, 6883));
        Assert.False(blacklist.Contains(IPAddress.Loopback, 6882));
    }

    [Fact]
    public void Add_WithoutPort_RefusesTheWholeAddress()
    {
        var blacklist = new PeerBlacklist(new FakeTimeProvider(), TimeSpan.FromMinutes(1));
        blacklist.Add(Host, 0);
        Assert.True(blacklist.Contains(Host, 6882));
        Assert.True(blacklist.Contains(Host, 0));
    }

    [Fact]
    public void Contains_AfterTheDuration_False()
    {
        var time = new FakeTimeProvider();
        var blacklist = new PeerBlacklist(time, TimeSpan.FromMinutes(1));
        blacklist.Add(Host, 6882);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(blacklist.Contains(Host, 6882));
        Assert.Equal(0, blacklist.Count);
    }

    [Fact]
    public void Add_PastTheBound_OldestEntryGoes()
    {
        var time = new FakeTimeProvider();
        var blacklist = new PeerBlacklist(time, TimeSpan.FromMinutes(1));
        for (var port = 1; port <= PeerBlacklist.MaxEntries + 10; port++)
        {
            blacklist.Add(Host, port);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(PeerBlacklist.MaxEntries, blacklist.Count);
        Assert.False(blacklist.Contains(Host, 1));
        Assert.True(blacklist.Contains(Host, PeerBlacklist.MaxEntries + 10));
    }
}

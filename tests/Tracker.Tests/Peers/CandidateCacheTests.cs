using System.Net;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Peers;

public sealed class CandidateCacheTests
{
    private static readonly InfoHash s_swarm = InfoHash.Compute("cached-swarm"u8);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private static PeerRecord[] Peers(params int[] ids) =>
        [.. ids.Select(id => new PeerRecord(TestPeers.Id(id), IPAddress.Parse($"10.0.0.{id}"), 6881, PeerRole.Agent, false, 10, default))];

    [Fact]
    public void TryGet_WithinTheTtl_IsTheSetSample_AndAfterItNothing()
    {
        var cache = new CandidateCache(_time, TimeSpan.FromSeconds(1), maxEntries: 16);
        var peers = Peers(1, 2);
        cache.Set(s_swarm, peers, _time.GetUtcNow());

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.True(cache.TryGet(s_swarm, out var hit));
        Assert.Same(peers, hit);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(cache.TryGet(s_swarm, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Set_ReadBeforeNow_ExpiresATtlAfterTheRead()
    {
        var cache = new CandidateCache(_time, TimeSpan.FromSeconds(1), maxEntries: 16);
        var readAt = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromSeconds(1));

        cache.Set(s_swarm, Peers(1), readAt);

        Assert.False(cache.TryGet(s_swarm, out _));
    }

    [Fact]
    public void Set_PastMaxEntries_StaysBounded()
    {
        var cache = new CandidateCache(_time, TimeSpan.FromSeconds(1), maxEntries: 3);
        for (var i = 0; i < 10; i++)
        {
            cache.Set(InfoHash.Compute(BitConverter.GetBytes(i)), Peers(i + 1), _time.GetUtcNow());
            Assert.InRange(cache.Count, 1, 3);
        }

        // The newest is always kept.
        Assert.True(cache.TryGet(InfoHash.Compute(BitConverter.GetBytes(9)), out var last));
        Assert.Equal(TestPeers.Id(10), Assert.Single(last).Id);
    }

    [Fact]
    public void Remove_ForgetsTheSwarmAtOnce()
    {
        var cache = new CandidateCache(_time, TimeSpan.FromSeconds(1), maxEntries: 16);
        cache.Set(s_swarm, Peers(1), _time.GetUtcNow());

        cache.Remove(s_swarm);

        Assert.False(cache.TryGet(s_swarm, out _));
    }
}

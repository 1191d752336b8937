using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Diagnostics;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Tests.Peers;

public sealed class PeerSweeperTests
{
    [Fact]
    public async Task ExecuteAsync_PeersSilentPastTtl_AreSweptOnTheNextTick()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var options = new PeerStoreOptions(TimeSpan.FromSeconds(90), 10, 10);
        var store = new InMemoryPeerStore(options, time);
        using var meters = new TestMeterFactory();
        using var sweeper = new PeerSweeper(store, options, TimeSpan.FromSeconds(30), time, new TrackerMetrics(meters, store), NullLogger<PeerSweeper>.Instance);
        await store.AnnounceAsync(InfoHash.Compute("idle"u8), TestPeers.Agent(1, true), AnnounceEvent.Started, default);
        await sweeper.StartAsync(default);
        try
        {
            time.Advance(TimeSpan.FromSeconds(60));
            Assert.Equal(1, store.GetStatistics().Peers); // within the TTL: kept

            time.Advance(TimeSpan.FromSeconds(30)); // 90 s: not yet past it
            time.Advance(TimeSpan.FromSeconds(30)); // 120 s: swept at this tick
            for (var i = 0; i < 100 && store.GetStatistics().Peers != 0; i++)
            {
                await Task.Delay(20); // the sweep runs on the timer's continuation
            }

            Assert.Equal(new PeerStoreStatistics(0, 0), store.GetStatistics());
        }
        finally
        {
            await sweeper.StopAsync(default);
        }
    }
}

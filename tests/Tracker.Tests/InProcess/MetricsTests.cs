using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Tracker.Diagnostics;

namespace P2PRegistry.Tracker.Tests.InProcess;

public sealed class MetricsTests
{
    [Fact]
    public async Task Instruments_AfterAnnouncesAndMetaInfo_CountThem()
    {
        await using var origin = await FakeOrigin.StartAsync();
        await using var tracker = await TrackerHost.StartAsync(origin.Url, TrackerHost.LoopbackTrusted);
        var metaInfo = TestMetaInfos.Create();
        origin.Serve(metaInfo);
        var scope = tracker.Services.GetRequiredService<IMeterFactory>();
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            // Only this tracker's meter: other tests run trackers in parallel.
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == TrackerMetrics.MeterName && instrument.Meter.Scope == scope)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name;
            foreach (var tag in tags)
            {
                if (tag.Key is "role" or "event" or "result")
                {
                    key += $"|{tag.Key}={tag.Value}";
                }
            }

            totals.AddOrUpdate(key, value, (_, old) => instrument is ObservableGauge<long> ? value : old + value);
        });
        listener.Start();
        var deadline = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30));

        await tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = metaInfo.Digest.Value }, deadline);
        await tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = metaInfo.Digest.Value }, deadline);
        await tracker.Client.AnnounceAsync(Announces.Request(metaInfo.InfoHash, 1, role: PeerRole.Origin, complete: true), deadline);
        await tracker.Client.AnnounceAsync(Announces.Request(metaInfo.InfoHash, 2), deadline);
        await tracker.Client.AnnounceAsync(Announces.Request(metaInfo.InfoHash, 3, announceEvent: AnnounceEvent.None), deadline);
        listener.RecordObservableInstruments();

        Assert.Equal(1, totals.GetValueOrDefault("p2pregistry.tracker.metainfo.origin_fetches|result=ok"));
        Assert.Equal(1, totals.GetValueOrDefault("p2pregistry.tracker.metainfo.cache_hits"));
        Assert.Equal(1, totals.GetValueOrDefault("p2pregistry.tracker.announces|role=origin|event=started"));
        Assert.Equal(1, totals.GetValueOrDefault("p2pregistry.tracker.announces|role=agent|event=started"));
        Assert.Equal(1, totals.GetValueOrDefault("p2pregistry.tracker.announces|role=agent|event=none"));
        Assert.Equal(1, totals.GetValueOrDefault("p2pregistry.tracker.swarms"));
        Assert.Equal(3, totals.GetValueOrDefault("p2pregistry.tracker.peers"));
    }
}

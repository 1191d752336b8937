using System.Diagnostics.Metrics;
using P2PRegistry.Hosting.Metrics;

namespace P2PRegistry.Hosting.Tests;

public class PrometheusExporterTests
{
    [Fact]
    public void Scrape_Counter_RendersTotalWithUnitSuffixAndSortedLabels()
    {
        var prefix = "P2PRegistry.Test." + Guid.NewGuid().ToString("N");
        using var exporter = new PrometheusExporter(prefix);
        using var meter = new Meter(prefix);
        var counter = meter.CreateCounter<long>("p2pregistry.test.bytes_sent", "By", "Bytes sent.");
        counter.Add(5, new KeyValuePair<string, object?>("source", "peer"), new KeyValuePair<string, object?>("blob", "a\"b"));
        counter.Add(7, new KeyValuePair<string, object?>("blob", "a\"b"), new KeyValuePair<string, object?>("source", "peer"));
        counter.Add(1);

        var text = exporter.Scrape();

        Assert.Contains("# TYPE p2pregistry_test_bytes_sent_bytes_total counter\n", text);
        Assert.Contains("p2pregistry_test_bytes_sent_bytes_total{blob=\"a\\\"b\",source=\"peer\"} 12\n", text);
        Assert.Contains("p2pregistry_test_bytes_sent_bytes_total 1\n", text);
        Assert.Contains("process_resident_memory_bytes ", text);
    }

    [Fact]
    public void Scrape_CounterWithOneTag_EachValueItsOwnSeries_EscapedOnce()
    {
        var prefix = "P2PRegistry.Test." + Guid.NewGuid().ToString("N");
        using var exporter = new PrometheusExporter(prefix);
        using var meter = new Meter(prefix);
        var counter = meter.CreateCounter<long>("p2pregistry.test.blocks", "{block}", "Blocks.");
        for (var i = 0; i < 3; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("peer.kind", "origin"));
            counter.Add(2, new KeyValuePair<string, object?>("peer.kind", "peer"));
            counter.Add(4, new KeyValuePair<string, object?>("peer.kind", "a\"b"));
            counter.Add(8, new KeyValuePair<string, object?>("status", 404));
        }

        var text = exporter.Scrape();

        Assert.Contains("p2pregistry_test_blocks_total{peer_kind=\"origin\"} 3\n", text);
        Assert.Contains("p2pregistry_test_blocks_total{peer_kind=\"peer\"} 6\n", text);
        Assert.Contains("p2pregistry_test_blocks_total{peer_kind=\"a\\\"b\"} 12\n", text);
        Assert.Contains("p2pregistry_test_blocks_total{status=\"404\"} 24\n", text);
    }

    [Fact]
    public void Scrape_Histogram_RendersCumulativeBucketsSumAndCount()
    {
        var prefix = "P2PRegistry.Test." + Guid.NewGuid().ToString("N");
        using var exporter = new PrometheusExporter(prefix);
        using var meter = new Meter(prefix);
        var histogram = meter.CreateHistogram<double>("p2pregistry.test.duration", "s", "How long.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 10] });
        histogram.Record(0.5);
        histogram.Record(5);
        histogram.Record(50);

        var text = exporter.Scrape();

        Assert.Contains("# TYPE p2pregistry_test_duration_seconds histogram\n", text);
        Assert.Contains("p2pregistry_test_duration_seconds_bucket{le=\"1\"} 1\n", text);
        Assert.Contains("p2pregistry_test_duration_seconds_bucket{le=\"10\"} 2\n", text);
        Assert.Contains("p2pregistry_test_duration_seconds_bucket{le=\"+Inf\"} 3\n", text);
        Assert.Contains("p2pregistry_test_duration_seconds_sum 55.5\n", text);
        Assert.Contains("p2pregistry_test_duration_seconds_count 3\n", text);
    }

    [Fact]
    public void Scrape_ObservableGaugeAndUpDownCounter_RenderCurrentValues()
    {
        var prefix = "P2PRegistry.Test." + Guid.NewGuid().ToString("N");
        using var exporter = new PrometheusExporter(prefix);
        using var meter = new Meter(prefix);
        var current = 3;
        meter.CreateObservableGauge("p2pregistry.test.swarms", () => current);
        var active = meter.CreateUpDownCounter<int>("p2pregistry.test.active");
        active.Add(4);
        active.Add(-1);

        Assert.Contains("p2pregistry_test_swarms 3\n", exporter.Scrape());
        current = 8;
        var text = exporter.Scrape();
        Assert.Contains("p2pregistry_test_swarms 8\n", text);
        Assert.Contains("# TYPE p2pregistry_test_active gauge\n", text);
        Assert.Contains("p2pregistry_test_active 3\n", text);
    }

    [Fact]
    public void Scrape_OtherMeters_AreNotExported()
    {
        var prefix = "P2PRegistry.Test." + Guid.NewGuid().ToString("N");
        using var exporter = new PrometheusExporter(prefix);
        using var meter = new Meter("Somebody.Else");
        meter.CreateCounter<long>("somebody.else.count").Add(1);

        Assert.DoesNotContain("somebody_else", exporter.Scrape());
    }

    [Theory]
    [InlineData("p2pregistry.agent.bytes_received", "By", true, "p2pregistry_agent_bytes_received_bytes_total")]
    [InlineData("p2pregistry.agent.received_bytes", "By", false, "p2pregistry_agent_received_bytes")]
    [InlineData("p2pregistry.tracker.announce-duration", "s", false, "p2pregistry_tracker_announce_duration_seconds")]
    [InlineData("p2pregistry.origin.uploads_total", null, true, "p2pregistry_origin_uploads_total")]
    public void MetricName_MapsUnitsAndCounterSuffix(string name, string? unit, bool counter, string expected)
    {
        Assert.Equal(expected, PrometheusNames.MetricName(name, unit, counter));
    }
}

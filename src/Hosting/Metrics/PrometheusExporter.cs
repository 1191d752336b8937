using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace P2PRegistry.Hosting.Metrics;

/// <summary>
/// Collects every instrument of the meters whose names start with one of the given prefixes and renders
/// them in the Prometheus text exposition format (0.0.4), plus a few process gauges.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] s_defaultBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();
    private readonly string[] _meterPrefixes;
    private readonly Lock _scrapeLock = new();

    public PrometheusExporter(params string[] meterPrefixes)
    {
        _meterPrefixes = meterPrefixes.Length == 0 ? ["P2PRegistry"] : meterPrefixes;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (Array.Exists(_meterPrefixes, p => instrument.Meter.Name.StartsWith(p, StringComparison.Ordinal)))
            {
                var state = _instruments.GetOrAdd(instrument, static i => new InstrumentState(i));
                listener.EnableMeasurementEvents(instrument, state);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out InstrumentState? _);
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Renders all metrics now (observable instruments are read during the call).</summary>
    public string Scrape()
    {
        var output = new StringBuilder(4096);
        lock (_scrapeLock)
        {
            _listener.RecordObservableInstruments();
            foreach (var group in _instruments.Values.GroupBy(s => s.MetricName).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var first = group.First();
                output.Append("# HELP ").Append(group.Key).Append(' ').Append(Escape(first.Description)).Append('\n');
                output.Append("# TYPE ").Append(group.Key).Append(' ').Append(first.PrometheusType).Append('\n');
                foreach (var state in group)
                {
                    state.Write(output);
                }
            }
        }

        WriteProcessMetrics(output);
        return output.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private static void WriteProcessMetrics(StringBuilder output)
    {
        using var process = Process.GetCurrentProcess();
        Gauge(output, "process_resident_memory_bytes", "Resident set size.", process.WorkingSet64, "gauge");
        Gauge(output, "process_cpu_seconds_total", "User and system CPU time.", process.TotalProcessorTime.TotalSeconds, "counter");
        Gauge(output, "process_start_time_seconds", "Start time since the Unix epoch.", new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0, "gauge");
        Gauge(output, "dotnet_gc_heap_bytes", "Bytes on the managed heap.", GC.GetTotalMemory(false), "gauge");
        Gauge(output, "dotnet_threadpool_threads", "Thread pool threads.", ThreadPool.ThreadCount, "gauge");
    }

    private static void Gauge(StringBuilder output, string name, string help, double value, string type)
    {
        output.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        output.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        output.Append(name).Append(' ').Append(Format(value)).Append('\n');
    }

    internal static string Format(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string Escape(string? help) => (help ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private sealed class InstrumentState
    {
        private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<(string Key, object? Value), string> _singleLabels = new();
        private readonly bool _isObservable;
        private readonly bool _isHistogram;
        private readonly bool _isCumulative;
        private readonly double[] _buckets;

        public InstrumentState(Instrument instrument)
        {
            var type = instrument.GetType();
            var kind = type.IsGenericType ? type.GetGenericTypeDefinition().Name : type.Name;
            _isObservable = instrument.IsObservable;
            _isHistogram = kind.StartsWith("Histogram", StringComparison.Ordinal);
            _isCumulative = kind.StartsWith("Counter", StringComparison.Ordinal) || kind.StartsWith("ObservableCounter", StringComparison.Ordinal);
            PrometheusType = _isHistogram ? "histogram" : _isCumulative ? "counter" : "gauge";
            MetricName = PrometheusNames.MetricName(instrument.Name, instrument.Unit, _isCumulative);
            Description = instrument.Description ?? instrument.Name;
            _buckets = s_defaultBuckets;
            if (_isHistogram && instrument is Histogram<double> { Advice.HistogramBucketBoundaries: { Count: > 0 } doubleBounds })
            {
                _buckets = [.. doubleBounds];
            }
            else if (_isHistogram && instrument is Histogram<long> { Advice.HistogramBucketBoundaries: { Count: > 0 } longBounds })
            {
                _buckets = [.. longBounds.Select(b => (double)b)];
            }
        }

        public string MetricName { get; }

        public string Description { get; }

        public string PrometheusType { get; }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = tags.Length switch
            {
                0 => "",
                // Counters on the data path record per block with one constant tag: rendered once, not per call.
                1 => _singleLabels.GetOrAdd((tags[0].Key, tags[0].Value), static (tag) => RenderLabels([new(tag.Key, tag.Value)])),
                _ => RenderLabels(tags),
            };
            var series = _series.GetOrAdd(labels, _ => new Series(_isHistogram ? _buckets.Length : 0));
            lock (series)
            {
                if (_isHistogram)
                {
                    series.Count++;
                    series.Value += value;
                    var bucket = Array.FindIndex(_buckets, b => value <= b);
                    if (bucket >= 0)
                    {
                        series.Buckets![bucket]++;
                    }
                }
                else if (_isObservable)
                {
                    // Observable instruments report the current (cumulative) value on each collection.
                    series.Value = value;
                }
                else
                {
                    series.Value += value;
                }
            }
        }

        public void Write(StringBuilder output)
        {
            foreach (var (labels, series) in _series.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                lock (series)
                {
                    if (!_isHistogram)
                    {
                        output.Append(MetricName).Append(labels).Append(' ').Append(Format(series.Value)).Append('\n');
                        continue;
                    }

                    long cumulative = 0;
                    for (var i = 0; i < _buckets.Length; i++)
                    {
                        cumulative += series.Buckets![i];
                        AppendBucket(output, labels, Format(_buckets[i]), cumulative);
                    }

                    AppendBucket(output, labels, "+Inf", series.Count);
                    output.Append(MetricName).Append("_sum").Append(labels).Append(' ').Append(Format(series.Value)).Append('\n');
                    output.Append(MetricName).Append("_count").Append(labels).Append(' ').Append(series.Count).Append('\n');
                }
            }
        }

        private void AppendBucket(StringBuilder output, string labels, string le, long count)
        {
            output.Append(MetricName).Append("_bucket");
            output.Append(labels.Length == 0 ? "{" : labels[..^1] + ",");
            output.Append("le=\"").Append(le).Append("\"} ").Append(count).Append('\n');
        }

        private static string RenderLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.IsEmpty)
            {
                return "";
            }

            var sorted = tags.ToArray();
            Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            var builder = new StringBuilder("{");
            for (var i = 0; i < sorted.Length; i++)
            {
                if (i > 0)
                {
                    builder.Append(',');
                }

                builder.Append(PrometheusNames.LabelName(sorted[i].Key)).Append("=\"");
                PrometheusNames.AppendLabelValue(builder, Convert.ToString(sorted[i].Value, CultureInfo.InvariantCulture));
                builder.Append('"');
            }

            return builder.Append('}').ToString();
        }
    }

    private sealed class Series(int buckets)
    {
        public double Value;
        public long Count;
        public readonly long[]? Buckets = buckets > 0 ? new long[buckets] : null;
    }
}

using System.Globalization;
using System.Text;
using P2PRegistry.TrackerLoad.Measuring;

namespace P2PRegistry.TrackerLoad;

internal sealed record LatencyReport(long P50Micros, long P99Micros, long P999Micros, long MaxMicros, double MeanMicros)
{
    public static LatencyReport Of(LatencyHistogram histogram) =>
        new(histogram.Percentile(50), histogram.Percentile(99), histogram.Percentile(99.9), histogram.Max, Math.Round(histogram.Mean, 1));
}

internal sealed record PhaseReport(long Announces, double Seconds, LatencyReport? Latency)
{
    public double PerSecond => Seconds <= 0 ? 0 : Math.Round(Announces / Seconds, 0);
}

/// <param name="AnswerBytes">The tracker's answers, in bytes, all told (their mean says how many peers each handed out).</param>
internal sealed record EventReport(long Started, long Periodic, long Completed, long AnswerBytes)
{
    public long Total => Started + Periodic + Completed;

    public double MeanAnswerBytes => Total == 0 ? 0 : Math.Round((double)AnswerBytes / Total, 0);
}

internal sealed record ProcessCpu(string Name, double Seconds);

internal sealed record ErrorReport(long Total, IReadOnlyDictionary<string, long> ByStatus, IReadOnlyList<string> Samples);

/// <summary>One run's figures: what was driven, how fast it was answered, and the CPU each side used while measured.</summary>
internal sealed record LoadReport(
    string Store,
    int Swarms,
    int Peers,
    int LargestSwarm,
    int SmallestSwarm,
    int Callers,
    int Connections,
    int Cores,
    PhaseReport Warmup,
    PhaseReport Populate,
    PhaseReport Measure,
    EventReport MeasuredEvents,
    int MetaInfoFetches,
    double ClientCpuSeconds,
    IReadOnlyList<ProcessCpu> ServerCpu,
    ErrorReport Errors)
{
    /// <summary>The docs/benchmarks.md table's row (CPU as cores busy on average over the measured window).</summary>
    public string MarkdownRow()
    {
        var m = Measure;
        var cores = string.Join(", ", ServerCpu.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name} {p.Seconds / m.Seconds:0.00}")));
        var perAnnounce = string.Join(", ", ServerCpu.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name} {MicrosPerAnnounce(p.Seconds):0}")));
        return string.Create(
            CultureInfo.InvariantCulture,
            $"| {Store} | {Swarms} | {LargestSwarm}…{SmallestSwarm} ({Peers} in all) | {m.PerSecond:0} | {Ms(m.Latency!.P50Micros)} / {Ms(m.Latency.P99Micros)} / {Ms(m.Latency.P999Micros)} | {cores} | {perAnnounce} | {ClientCpuSeconds / m.Seconds:0.00} ({MicrosPerAnnounce(ClientCpuSeconds):0} µs) | {Errors.Total} |");
    }

    /// <summary>CPU time per measured announce: what an announce costs whatever else the machine is doing.</summary>
    public double MicrosPerAnnounce(double cpuSeconds) => Measure.Announces == 0 ? 0 : cpuSeconds * 1_000_000 / Measure.Announces;

    public const string MarkdownHeader =
        "| store | swarms | peers per swarm | announces/s | p50 / p99 / p99.9 ms | server CPU (cores) | server CPU µs per announce | load generator CPU cores (µs per announce) | errors |\n" +
        "|---|---|---|---|---|---|---|---|---|";

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(MarkdownHeader).AppendLine(MarkdownRow()).AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- {Callers} callers (announces in flight) over {Connections} HTTP/2 connections, closed loop; {Cores} cores shared by the tracker and the load generator.");
        text.AppendLine(CultureInfo.InvariantCulture, $"- measured: {Measure.Announces} announces in {Measure.Seconds:0.0} s — {MeasuredEvents.Started} started, {MeasuredEvents.Periodic} periodic, {MeasuredEvents.Completed} completed, answers of {MeasuredEvents.MeanAnswerBytes:0} bytes on average; mean {Measure.Latency!.MeanMicros / 1000:0.00} ms, max {Ms(Measure.Latency.MaxMicros)} ms.");
        text.AppendLine(CultureInfo.InvariantCulture, $"- populate (every peer's STARTED, not measured above): {Populate.Announces} announces at {Populate.PerSecond:0}/s, p50 {Ms(Populate.Latency!.P50Micros)} ms, p99 {Ms(Populate.Latency.P99Micros)} ms.");
        text.AppendLine(CultureInfo.InvariantCulture, $"- warm-up: {Warmup.Announces} announces, {MetaInfoFetches} metainfo fetches by the tracker, in {Warmup.Seconds:0.0} s.");
        if (Errors.Total != 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- errors: {string.Join(", ", Errors.ByStatus.Select(e => $"{e.Key} × {e.Value}"))}; {string.Join(" | ", Errors.Samples)}");
        }

        return text.ToString();
    }

    private static string Ms(long micros) => (micros / 1000.0).ToString("0.00", CultureInfo.InvariantCulture);
}

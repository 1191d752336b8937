using System.Globalization;
using System.Text;

namespace P2PRegistry.Harness.Reporting;

/// <summary>report.md: one table per client count, and a scaling table when there are several.</summary>
internal static class MarkdownReport
{
    public const string TableHeader =
        "| system | done | median s | slowest s | median / bound | slowest / bound | origin egress ×F | server CPU s | client CPU s |";

    public static string Render(HarnessReport report)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# P2PRegistry harness report").AppendLine();
        sb.AppendLine(Inv($"- started: {report.StartedAt:yyyy-MM-dd HH:mm:ss} UTC on {report.Machine}"));
        sb.AppendLine(Inv($"- testbed: {report.Testbed}"));
        if (report.Image is { } image)
        {
            sb.AppendLine(Inv($"- workload: image — containerd on every client host pulls and unpacks {image.Reference} ({image.LayerBlobBytes.Count} gzip layers of ")
                + string.Join(", ", image.LayerContentBytes.Select(b => Inv($"{b / 1048576.0:0.#}")))
                + Inv($" MiB of random bytes; {image.TotalBytes / 1048576.0:0.##} MiB to fetch, F, with config and manifest {image.ManifestDigest}); links {report.RateMbit} Mbit/s"));
        }
        else
        {
            sb.AppendLine(Inv($"- blob: {report.BlobBytes / 1048576.0:0.##} MiB, piece length {report.PieceLength / 1024} KiB; links {report.RateMbit} Mbit/s"));
        }

        sb.AppendLine(Inv($"- payload rate for the bound: {report.PayloadBytesPerSecond / 1e6:0.00} MB/s; {report.Calibration}"));
        sb.AppendLine("- bound: Kumar & Ross, T ≥ max(F/u_origin, F/d_min, N·F/(u_origin + Σu_i))").AppendLine();
        foreach (var run in report.Runs)
        {
            sb.AppendLine(Inv($"## N = {run.Clients} clients, lower bound {run.LowerBoundSeconds:0.00} s")).AppendLine();
            sb.AppendLine(Inv($"![completion-time CDF](cdf-n{run.Clients}.svg)")).AppendLine();
            sb.AppendLine(TableHeader);
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var system in run.Systems)
            {
                sb.AppendLine(Row(system, run.Clients));
            }

            sb.AppendLine();
            if (report.Image is not null)
            {
                sb.Append(ImageReadyTable(run));
            }

            foreach (var system in run.Systems.Where(s => s.CrossZone is { Count: > 0 }))
            {
                sb.AppendLine(Inv($"- {system.Name} cross-zone bytes (link frames that arrived in each zone from the other): ")
                    + string.Join(", ", system.CrossZone!.Select(c => Inv($"zone {c.Zone} {c.Bytes / 1048576.0:0.0} MiB = {c.TimesF:0.00}×F"))));
            }

            foreach (var system in run.Systems.Where(s => s.Error is not null))
            {
                sb.AppendLine(Inv($"- **{system.Name} failed**: {system.Error}"));
            }

            foreach (var system in run.Systems.Where(s => s.Available))
            {
                foreach (var client in system.Clients.Where(c => c.Error is not null || c.Identical == false))
                {
                    sb.AppendLine(Inv($"- {system.Name} {client.Host}: {client.Error ?? "content differs from the blob"}"));
                }
            }

            sb.AppendLine();
        }

        if (report.Runs.Count > 1)
        {
            sb.AppendLine("## Scaling: slowest client (s, and × bound) by N").AppendLine();
            var names = report.Runs.SelectMany(r => r.Systems).Where(s => s.Available).Select(s => s.Name).Distinct().ToList();
            sb.AppendLine("| N | bound s | " + string.Join(" | ", names) + " |");
            sb.AppendLine("|---|---|" + string.Concat(names.Select(_ => "---|")));
            foreach (var run in report.Runs)
            {
                var cells = names.Select(n => run.Systems.FirstOrDefault(s => s.Name == n) is { SlowestSeconds: { } t, SlowestToBound: { } r }
                    ? Inv($"{t:0.0} ({r:0.00}×)")
                    : "—");
                sb.AppendLine(Inv($"| {run.Clients} | {run.LowerBoundSeconds:0.0} | ") + string.Join(" | ", cells) + " |");
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    /// <summary>
    /// Image-ready time (ctr pull start → exit 0, image unpacked): p50 and p99 per system, each as a ratio to the
    /// first system in the run that has them (the baseline, e.g. registry); then, with waves, the same per wave.
    /// </summary>
    public static string ImageReadyTable(RunReport run)
    {
        var sb = new StringBuilder();
        var baseline = run.Systems.FirstOrDefault(s => s.P50Seconds is not null && s.P99Seconds is not null);
        sb.AppendLine(Inv($"Image-ready time, nearest-rank percentiles{(baseline is null ? "" : $"; ratios against {baseline.Name}")}:")).AppendLine();
        sb.AppendLine("| system | p50 s | p99 s | p50 ratio | p99 ratio |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var s in run.Systems.Where(s => s.Available))
        {
            sb.AppendLine(Inv($"| {s.Name} | {F(s.P50Seconds, "0.00")} | {F(s.P99Seconds, "0.00")} | {F(s.P50Seconds / baseline?.P50Seconds, "0.00")} | {F(s.P99Seconds / baseline?.P99Seconds, "0.00")} |"));
        }

        sb.AppendLine();
        var waved = run.Systems.Where(s => s.Waves is { Count: > 0 }).ToList();
        if (waved.Count == 0)
        {
            return sb.ToString();
        }

        sb.AppendLine("Rolling update: each wave starts when the previous one is done; times from the wave's start (p50 / p99 s):").AppendLine();
        sb.AppendLine("| wave | clients | " + string.Join(" | ", waved.Select(s => s.Name)) + (baseline is null ? "" : " | p50 / p99 ratio, " + string.Join(", ", waved.Where(s => s != baseline).Select(s => s.Name))) + " |");
        sb.AppendLine("|---|---|" + string.Concat(waved.Select(_ => "---|")) + (baseline is null ? "" : "---|"));
        var baseWaves = baseline?.Waves ?? [];
        foreach (var wave in waved[0].Waves!)
        {
            var cells = waved.Select(s => s.Waves!.FirstOrDefault(w => w.Wave == wave.Wave) is { } w ? Inv($"{F(w.P50Seconds, "0.00")} / {F(w.P99Seconds, "0.00")}") : "—");
            var row = Inv($"| {wave.Wave} | {wave.Clients} | ") + string.Join(" | ", cells);
            if (baseline is not null)
            {
                var b = baseWaves.FirstOrDefault(w => w.Wave == wave.Wave);
                var ratios = waved.Where(s => s != baseline).Select(s => s.Waves!.FirstOrDefault(w => w.Wave == wave.Wave) is { } w
                    ? Inv($"{F(w.P50Seconds / b?.P50Seconds, "0.00")} / {F(w.P99Seconds / b?.P99Seconds, "0.00")}")
                    : "—");
                row += " | " + string.Join(", ", ratios);
            }

            sb.AppendLine(row + " |");
        }

        sb.AppendLine();
        return sb.ToString();
    }

    public static string Row(SystemReport s, int clients)
    {
        if (!s.Available)
        {
            return Inv($"| {s.Name} | not available: {Escape(s.Reason ?? "unknown")} | | | | | | | |");
        }

        return Inv($"| {s.Name} | {s.Completed}/{clients} | {F(s.MedianSeconds, "0.00")} | {F(s.SlowestSeconds, "0.00")} | {F(s.MedianToBound, "0.00")} | {F(s.SlowestToBound, "0.00")} | {F(s.OriginEgressTimesF, "0.00")} | {F(s.ServerCpuSeconds, "0.0")} | {F(s.ClientCpuSeconds, "0.0")} |");
    }

    private static string F(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "—";

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

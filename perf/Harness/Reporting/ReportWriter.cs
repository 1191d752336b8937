using System.Globalization;

namespace P2PRegistry.Harness.Reporting;

/// <summary>Writes report.json, report.md and one cdf-n&lt;N&gt;.svg per client count into the output folder.</summary>
internal static class ReportWriter
{
    public static async Task WriteAsync(HarnessReport report, string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "report.json"), JsonReport.Render(report), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(directory, "report.md"), MarkdownReport.Render(report), cancellationToken).ConfigureAwait(false);
        foreach (var run in report.Runs)
        {
            var title = string.Create(CultureInfo.InvariantCulture,
                $"{report.BlobBytes / 1048576.0:0.#} MiB to N = {run.Clients} clients over {report.RateMbit} Mbit/s links");
            await File.WriteAllTextAsync(Path.Combine(directory, $"cdf-n{run.Clients}.svg"), CdfSvg.Render(run, title), cancellationToken).ConfigureAwait(false);
        }
    }
}

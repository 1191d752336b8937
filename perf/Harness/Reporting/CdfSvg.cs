using System.Globalization;
using System.Net;
using System.Text;
using P2PRegistry.Harness.Measuring;

namespace P2PRegistry.Harness.Reporting;

/// <summary>
/// A completion-time CDF for one client count, drawn by hand: x = seconds since the start barrier, y = fraction
/// of clients done; one step polyline per system that finished any client, and the lower bound as a dashed line.
/// </summary>
internal static class CdfSvg
{
    private const int Width = 720;
    private const int Height = 420;
    private const int Left = 60;
    private const int Right = 170;
    private const int Top = 40;
    private const int Bottom = 50;

    private static readonly string[] s_colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    public static string Render(RunReport run, string title)
    {
        var drawn = run.Systems
            .Select(s => (System: s, Times: s.Clients.Where(c => c.Seconds is not null).Select(c => c.Seconds!.Value).ToList()))
            .Where(x => x.System.Available && x.Times.Count > 0)
            .ToList();
        var maxTime = Math.Max(run.LowerBoundSeconds, drawn.SelectMany(d => d.Times).DefaultIfEmpty(0).Max());
        var xMax = NiceCeiling(maxTime * 1.05);
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        double X(double t) => Left + t / xMax * plotW;
        double Y(double f) => Top + (1 - f) * plotH;

        var sb = new StringBuilder();
        sb.AppendLine(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">"));
        sb.AppendLine(Inv($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>"));
        sb.AppendLine(Inv($"<text x=\"{Left}\" y=\"22\" font-size=\"14\" font-weight=\"bold\">{WebUtility.HtmlEncode(title)}</text>"));
        for (var i = 0; i <= 5; i++)
        {
            var t = xMax * i / 5;
            var f = i / 5.0;
            sb.AppendLine(Inv($"<line x1=\"{X(t):0.#}\" y1=\"{Top}\" x2=\"{X(t):0.#}\" y2=\"{Top + plotH}\" stroke=\"#eee\"/>"));
            sb.AppendLine(Inv($"<text x=\"{X(t):0.#}\" y=\"{Top + plotH + 16}\" text-anchor=\"middle\">{t:0.#}</text>"));
            sb.AppendLine(Inv($"<line x1=\"{Left}\" y1=\"{Y(f):0.#}\" x2=\"{Left + plotW}\" y2=\"{Y(f):0.#}\" stroke=\"#eee\"/>"));
            sb.AppendLine(Inv($"<text x=\"{Left - 6}\" y=\"{Y(f) + 4:0.#}\" text-anchor=\"end\">{f:0%}</text>"));
        }

        sb.AppendLine(Inv($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#333\"/>"));
        sb.AppendLine(Inv($"<text x=\"{Left + plotW / 2}\" y=\"{Height - 12}\" text-anchor=\"middle\">seconds since all clients started</text>"));
        sb.AppendLine(Inv($"<text x=\"16\" y=\"{Top + plotH / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {Top + plotH / 2})\">clients done</text>"));

        var bx = X(run.LowerBoundSeconds);
        sb.AppendLine(Inv($"<line x1=\"{bx:0.#}\" y1=\"{Top}\" x2=\"{bx:0.#}\" y2=\"{Top + plotH}\" stroke=\"#555\" stroke-dasharray=\"6 4\"/>"));
        sb.AppendLine(Inv($"<text x=\"{bx + 4:0.#}\" y=\"{Top + 14}\" fill=\"#555\">bound {run.LowerBoundSeconds:0.0} s</text>"));

        for (var i = 0; i < drawn.Count; i++)
        {
            var (system, times) = drawn[i];
            var color = s_colors[i % s_colors.Length];
            var points = string.Join(' ', Cdf.Steps(times, run.Clients).Select(p => Inv($"{X(p.Seconds):0.##},{Y(p.Fraction):0.##}")));
            sb.AppendLine(Inv($"<polyline data-system=\"{WebUtility.HtmlEncode(system.Name)}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2.5\" points=\"{points}\"/>"));
            var ly = Top + 10 + i * 36;
            sb.AppendLine(Inv($"<line x1=\"{Left + plotW + 12}\" y1=\"{ly}\" x2=\"{Left + plotW + 36}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2.5\"/>"));
            sb.AppendLine(Inv($"<text x=\"{Left + plotW + 42}\" y=\"{ly + 4}\">{WebUtility.HtmlEncode(system.Name)}</text>"));
            var summary = system.SlowestToBound is { } r ? Inv($"last {system.SlowestSeconds:0.0} s = {r:0.00}× bound") : "";
            sb.AppendLine(Inv($"<text x=\"{Left + plotW + 42}\" y=\"{ly + 18}\" font-size=\"10\" fill=\"#555\">{summary}</text>"));
        }

        var skipped = run.Systems.Where(s => !drawn.Any(d => d.System == s)).ToList();
        for (var i = 0; i < skipped.Count; i++)
        {
            var ly = Top + 10 + (drawn.Count + i) * 36;
            sb.AppendLine(Inv($"<text x=\"{Left + plotW + 12}\" y=\"{ly + 4}\" fill=\"#999\">{WebUtility.HtmlEncode(skipped[i].Name)}: {(skipped[i].Available ? "no client finished" : "not available")}</text>"));
        }

        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    /// <summary>1, 2, 2.5 or 5 times a power of ten, at or above <paramref name="value"/>: round axis ends.</summary>
    public static double NiceCeiling(double value)
    {
        if (value <= 0)
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * power >= value - 1e-12)
            {
                return step * power;
            }
        }

        return 10 * power;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

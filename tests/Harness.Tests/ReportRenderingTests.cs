using System.Text.Json;
using System.Text.RegularExpressions;
using P2PRegistry.Harness.Reporting;

namespace P2PRegistry.Harness.Tests;

public sealed class ReportRenderingTests
{
    private static SystemReport Measured(string name, params double[] seconds) => new()
    {
        Name = name,
        Description = name + " description",
        Available = true,
        Clients = [.. seconds.Select((s, i) => new ClientReport($"c{i + 1}", s, 0.5, true, null))],
        MedianSeconds = seconds.Order().ElementAt(seconds.Length / 2),
        SlowestSeconds = seconds.Max(),
        MedianToBound = seconds.Order().ElementAt(seconds.Length / 2) / 20,
        SlowestToBound = seconds.Max() / 20,
        OriginLinkBytes = 3L << 20,
        OriginPayloadBytes = 3L << 20,
        OriginEgressTimesF = 3.0,
        ServerCpuSeconds = 1.25,
        ClientCpuSeconds = 2,
    };

    private static HarnessReport Report() => new()
    {
        StartedAt = new DateTimeOffset(2026, 11, 26, 21, 0, 0, TimeSpan.Zero),
        Machine = "test",
        Testbed = "namespaces",
        BlobBytes = 1L << 20,
        RateMbit = 100,
        PieceLength = 262144,
        PayloadBytesPerSecond = 11.97e6,
        Calibration = "measured",
        Runs =
        [
            new RunReport(3, 20, [
                Measured("registry", 60, 80, 90),
                Measured("aria2c", 24, 25, 27),
                new SystemReport { Name = "p2pregistry", Description = "d", Available = false, Reason = "the Agent | is missing" },
            ]),
        ],
    };

    [Fact]
    public void Markdown_Row_HasEveryFigure()
    {
        var row = MarkdownReport.Row(Measured("registry", 60, 80, 90), 3);
        Assert.Equal("| registry | 3/3 | 80.00 | 90.00 | 4.00 | 4.50 | 3.00 | 1.3 | 2.0 |", row);
    }

    [Fact]
    public void Markdown_UnavailableSystem_SaysWhyAndEscapesPipes()
    {
        var md = MarkdownReport.Render(Report());
        Assert.Contains("| p2pregistry | not available: the Agent \\| is missing | | | | | | | |", md);
        Assert.Contains(MarkdownReport.TableHeader, md);
        Assert.Contains("## N = 3 clients, lower bound 20.00 s", md);
        Assert.Contains("![completion-time CDF](cdf-n3.svg)", md);
        Assert.DoesNotContain("Scaling", md);
    }

    [Fact]
    public void Markdown_SeveralClientCounts_ScalingTable()
    {
        var report = Report() with { Runs = [Report().Runs[0], new RunReport(6, 20, [Measured("registry", 100, 180), Measured("aria2c", 30, 31)])] };
        var md = MarkdownReport.Render(report);
        Assert.Contains("| N | bound s | registry | aria2c |", md);
        Assert.Contains("| 6 | 20.0 | 180.0 (9.00×) | 31.0 (1.55×) |", md);
    }

    [Fact]
    public void Json_HasFieldsAndExplicitNulls()
    {
        using var json = JsonDocument.Parse(JsonReport.Render(Report()));
        var root = json.RootElement;
        Assert.Equal(1 << 20, root.GetProperty("blobBytes").GetInt64());
        Assert.Equal(11.97e6, root.GetProperty("payloadBytesPerSecond").GetDouble());
        var run = root.GetProperty("runs")[0];
        Assert.Equal(20, run.GetProperty("lowerBoundSeconds").GetDouble());
        var registry = run.GetProperty("systems")[0];
        Assert.Equal("registry", registry.GetProperty("name").GetString());
        Assert.Equal(90, registry.GetProperty("slowestSeconds").GetDouble());
        Assert.Equal(4.5, registry.GetProperty("slowestToBound").GetDouble());
        Assert.Equal(3.0, registry.GetProperty("originEgressTimesF").GetDouble());
        Assert.Equal(3, registry.GetProperty("completed").GetInt32());
        Assert.Equal(3, registry.GetProperty("clients").GetArrayLength());
        Assert.True(registry.GetProperty("clients")[0].GetProperty("identical").GetBoolean());
        var p2p = run.GetProperty("systems")[2];
        Assert.False(p2p.GetProperty("available").GetBoolean());
        Assert.Equal(JsonValueKind.Null, p2p.GetProperty("medianSeconds").ValueKind);
        Assert.Equal("the Agent | is missing", p2p.GetProperty("reason").GetString());
    }

    [Fact]
    public void Svg_OnePolylinePerMeasuredSystem()
    {
        var svg = CdfSvg.Render(Report().Runs[0], "title <&>");
        var polylines = Regex.Matches(svg, "<polyline data-system=\"([a-z0-9]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["registry", "aria2c"], polylines);
        Assert.Contains("p2pregistry: not available", svg);
        Assert.Contains("title &lt;&amp;&gt;", svg);
        Assert.Contains("stroke-dasharray", svg);
        Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", svg);
        Assert.EndsWith("</svg>" + Environment.NewLine, svg);
        System.Xml.Linq.XDocument.Parse(svg);
    }

    [Fact]
    public void Svg_PolylineFollowsTheSteps()
    {
        // Axis 0..100 s over 490 px from x = 60; y from 370 (0 %) to 40 (100 %): 3 steps, 7 points.
        var svg = CdfSvg.Render(new RunReport(3, 20, [Measured("aria2c", 24, 25, 27)]), "t");
        var points = Regex.Match(svg, "points=\"([^\"]+)\"").Groups[1].Value.Split(' ');
        Assert.Equal(7, points.Length);
        Assert.Equal("60,370", points[0]);
        Assert.Equal("40", points[^1].Split(',')[1]);
    }

    [Theory]
    [InlineData(0.3, 0.5)]
    [InlineData(27, 50)]
    [InlineData(94.5, 100)]
    [InlineData(100, 100)]
    [InlineData(101, 200)]
    [InlineData(220, 250)]
    public void NiceCeiling_RoundsUpToOneTwoFiveSteps(double value, double expected) =>
        Assert.Equal(expected, CdfSvg.NiceCeiling(value), 9);
}

using P2PRegistry.Harness.Measuring;
using P2PRegistry.Harness.Reporting;

namespace P2PRegistry.Harness.Tests;

public sealed class CrossZoneBytesTests
{
    private const long F = 64L << 20;

    [Fact]
    public void Between_TwoSnapshots_PerZoneDeltaAndMultipleOfF()
    {
        var before = new Dictionary<string, long> { ["a"] = 1_000, ["b"] = 5_000 };
        var after = new Dictionary<string, long> { ["b"] = 5_000 + (long)(1.1 * F), ["a"] = 1_000 + (F / 4) };

        var crossings = CrossZoneBytes.Between(before, after, F);

        Assert.Equal(["a", "b"], crossings.Select(c => c.Zone));
        Assert.Equal(F / 4, crossings[0].Bytes);
        Assert.Equal(0.25, crossings[0].TimesF, 9);
        Assert.Equal((long)(1.1 * F), crossings[1].Bytes);
        Assert.Equal(1.1, crossings[1].TimesF, 6);
    }

    [Fact]
    public void Between_NothingCrossed_Zero()
    {
        var same = new Dictionary<string, long> { ["a"] = 7, ["b"] = 9 };

        Assert.All(CrossZoneBytes.Between(same, same, F), c => Assert.Equal(0, c.Bytes));
    }

    [Fact]
    public void Between_CounterWentDown_Throws()
    {
        var before = new Dictionary<string, long> { ["a"] = 100, ["b"] = 100 };
        var after = new Dictionary<string, long> { ["a"] = 50, ["b"] = 200 };

        Assert.Contains("zone a went down", Assert.Throws<InvalidOperationException>(() => CrossZoneBytes.Between(before, after, F)).Message);
    }

    [Fact]
    public void Between_DifferentZones_Throws()
    {
        var before = new Dictionary<string, long> { ["a"] = 1, ["b"] = 1 };
        var after = new Dictionary<string, long> { ["a"] = 1, ["c"] = 1 };

        Assert.Throws<ArgumentException>(() => CrossZoneBytes.Between(before, after, F));
    }

    [Fact]
    public void AcrossZones_BoundIsFileOverTheLinkBetweenZones()
    {
        Assert.Equal(10.0, LowerBound.AcrossZones(100_000_000, 10_000_000), 9);
    }

    [Fact]
    public void Render_SystemWithCrossZone_ListsEachZone()
    {
        var report = new HarnessReport
        {
            StartedAt = DateTimeOffset.UnixEpoch,
            Machine = "m",
            Testbed = "t",
            BlobBytes = F,
            RateMbit = 100,
            PieceLength = 256 * 1024,
            PayloadBytesPerSecond = 11.9e6,
            Calibration = "c",
            Runs =
            [
                new RunReport(8, 5.6,
                [
                    new SystemReport
                    {
                        Name = "p2pregistry",
                        Description = "d",
                        Available = true,
                        CrossZone = [new ZoneCrossing("a", F / 2, 0.5), new ZoneCrossing("b", F + (F / 10), 1.1)],
                    },
                ]),
            ],
        };

        var markdown = MarkdownReport.Render(report);

        Assert.Contains("p2pregistry cross-zone bytes (link frames that arrived in each zone from the other): zone a 32.0 MiB = 0.50×F, zone b 70.4 MiB = 1.10×F", markdown, StringComparison.Ordinal);
    }
}

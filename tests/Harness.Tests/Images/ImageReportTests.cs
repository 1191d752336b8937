using System.Text.Json;
using P2PRegistry.Harness.Reporting;
using P2PRegistry.Harness.Systems;

namespace P2PRegistry.Harness.Tests.Images;

public sealed class ImageReportTests
{
    private static List<ClientReport> Clients(params (double? Seconds, int Wave)[] clients) =>
        [.. clients.Select((c, i) => new ClientReport($"c{i + 1}", c.Seconds, 0.1, c.Seconds is not null, c.Seconds is null ? "timed out" : null, c.Wave))];

    [Fact]
    public void WaveReports_PerWavePercentiles_NoneForAWaveWithAFailure()
    {
        var waves = HarnessRunner.WaveReports(Clients((10, 0), (12, 0), (4, 1), (5, 1), (null, 2), (3, 2)));
        Assert.Equal(3, waves.Count);
        Assert.Equal(new WaveReport(1, 2, 2, 10, 12), waves[0]);
        Assert.Equal(new WaveReport(2, 2, 2, 4, 5), waves[1]);
        Assert.Equal(new WaveReport(3, 2, 1, null, null), waves[2]);
    }

    private static SystemReport System(string name, double p50, double p99, params WaveReport[] waves) => new()
    {
        Name = name,
        Description = name,
        Available = true,
        P50Seconds = p50,
        P99Seconds = p99,
        Waves = waves.Length == 0 ? null : waves,
    };

    [Fact]
    public void ImageReadyTable_RatiosAgainstTheFirstSystem_AndOneRowPerWave()
    {
        var run = new RunReport(4, 5, [
            System("registry", 40, 80, new WaveReport(1, 2, 2, 20, 30), new WaveReport(2, 2, 2, 20, 40)),
            System("p2pregistry", 10, 20, new WaveReport(1, 2, 2, 10, 12), new WaveReport(2, 2, 2, 5, 8)),
        ]);
        var table = MarkdownReport.ImageReadyTable(run);
        Assert.Contains("ratios against registry", table);
        Assert.Contains("| registry | 40.00 | 80.00 | 1.00 | 1.00 |", table);
        Assert.Contains("| p2pregistry | 10.00 | 20.00 | 0.25 | 0.25 |", table);
        Assert.Contains("| wave | clients | registry | p2pregistry | p50 / p99 ratio, p2pregistry |", table);
        Assert.Contains("| 1 | 2 | 20.00 / 30.00 | 10.00 / 12.00 | 0.50 / 0.40 |", table);
        Assert.Contains("| 2 | 2 | 20.00 / 40.00 | 5.00 / 8.00 | 0.25 / 0.20 |", table);
    }

    [Fact]
    public void ImageReadyTable_WithoutWaves_HasNoWaveTable_AndAFailedBaselineGivesNoRatios()
    {
        var failed = new SystemReport { Name = "registry", Description = "d", Available = true, Error = "1 of 2 clients did not finish" };
        var table = MarkdownReport.ImageReadyTable(new RunReport(2, 5, [failed, System("p2pregistry", 3, 4)]));
        Assert.DoesNotContain("| wave |", table);
        Assert.Contains("| registry | — | — | — | — |", table);
        Assert.Contains("ratios against p2pregistry", table);
    }

    [Fact]
    public void Render_ImageWorkload_DescribesTheImage_AndJsonKeepsWavesAndPercentiles()
    {
        var report = new HarnessReport
        {
            StartedAt = new DateTimeOffset(2026, 12, 7, 13, 0, 0, TimeSpan.Zero),
            Machine = "test",
            Testbed = "namespaces",
            BlobBytes = 30L << 20,
            RateMbit = 50,
            PieceLength = 262144,
            PayloadBytesPerSecond = 6e6,
            Calibration = "measured",
            Workload = "image",
            Image = new ImageSummary("<seed>/harness/image:v1", "sha256:abc", [5L << 20, 25L << 20], [(5L << 20) + 900, (25L << 20) + 4000], 30L << 20),
            Runs = [new RunReport(4, 5, [System("registry", 40, 80, new WaveReport(1, 2, 2, 20, 30)), System("p2pregistry", 10, 20, new WaveReport(1, 2, 2, 10, 12))])],
        };

        var md = MarkdownReport.Render(report);
        Assert.Contains("- workload: image — containerd on every client host pulls and unpacks <seed>/harness/image:v1 (2 gzip layers of 5, 25 MiB of random bytes; 30 MiB to fetch", md);
        Assert.Contains("| p2pregistry | 10.00 | 20.00 | 0.25 | 0.25 |", md);

        using var json = JsonDocument.Parse(JsonReport.Render(report));
        Assert.Equal("image", json.RootElement.GetProperty("workload").GetString());
        Assert.Equal("sha256:abc", json.RootElement.GetProperty("image").GetProperty("manifestDigest").GetString());
        var p2p = json.RootElement.GetProperty("runs")[0].GetProperty("systems")[1];
        Assert.Equal(20, p2p.GetProperty("p99Seconds").GetDouble());
        Assert.Equal(12, p2p.GetProperty("waves")[0].GetProperty("p99Seconds").GetDouble());
    }

    [Fact]
    public void HostsToml_MirrorFirstThenTheServer_OrTheServerAsItsOwnHost()
    {
        var dir = Directory.CreateTempSubdirectory("p2ph-hosts-test-").FullName;
        try
        {
            var path = ContainerdImageSystem.WriteHostsToml(dir, "10.77.0.1:5000", "http://10.77.0.1:5000", "http://127.0.0.1:5050");
            Assert.Equal(Path.Combine(dir, "10.77.0.1:5000", "hosts.toml"), path);
            Assert.Equal("server = \"http://10.77.0.1:5000\"\n\n[host.\"http://127.0.0.1:5050\"]\n  capabilities = [\"pull\", \"resolve\"]\n", File.ReadAllText(path));

            ContainerdImageSystem.WriteHostsToml(dir, "10.77.0.1:5000", "http://10.77.0.1:5000/", null);
            Assert.Equal("server = \"http://10.77.0.1:5000\"\n\n[host.\"http://10.77.0.1:5000\"]\n  capabilities = [\"pull\", \"resolve\"]\n", File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ConfigToml_OwnRootStateAndSocket_NoCri()
    {
        var toml = ContainerdImageSystem.ConfigToml("/tmp/x/ctd-c1", "/tmp/x/ctd-c1/containerd.sock");
        Assert.Contains("root = \"/tmp/x/ctd-c1/root\"", toml);
        Assert.Contains("state = \"/tmp/x/ctd-c1/state\"", toml);
        Assert.Contains("address = \"/tmp/x/ctd-c1/containerd.sock\"", toml);
        Assert.Contains("\"io.containerd.grpc.v1.cri\"", toml);
    }
}

using P2PRegistry.Harness.Cli;
using P2PRegistry.Harness.Lab;
using P2PRegistry.Testing;
using Xunit.Abstractions;

namespace P2PRegistry.Harness.Tests.Images;

/// <summary>
/// The image workload for real, tiny: 2 client namespaces, a 3-layer image (1 to 4 MiB), two waves of one host,
/// containerd straight from docker-registry and through its Agent. Needs root and containerd, ctr, unpigz,
/// docker-registry and the built components, as CI has; it fails, never skips, without them.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ImageWorkloadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Run_TwoHostsInTwoWaves_BothSystemsUnpackTheImage_AndNothingIsLeft()
    {
        Assert.True(Environment.UserName == "root", "This test creates network namespaces and must run as root (CI does).");
        var options = HarnessArguments.Parse(["--workload", "image", "--agents", "2", "--layers", "3", "--layer-mib", "1-4", "--rate-mbit", "100", "--waves", "2", "--timeout-seconds", "90"]);
        var log = new StringWriter();
        var runner = new HarnessRunner(options, log);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        Reporting.HarnessReport report;
        try
        {
            report = await runner.RunAsync(timeout.Token);
        }
        finally
        {
            output.WriteLine(log.ToString());
        }

        Assert.Equal("image", report.Workload);
        Assert.NotNull(report.Image);
        Assert.Equal(3, report.Image.LayerBlobBytes.Count);
        Assert.Equal(report.Image.TotalBytes, report.BlobBytes);
        var run = Assert.Single(report.Runs);
        Assert.Equal(["registry", "p2pregistry"], run.Systems.Select(s => s.Name));
        foreach (var system in run.Systems)
        {
            Assert.True(system.Error is null, $"{system.Name}: {system.Error}");
            // Identical = containerd holds the image's top snapshot (its chain ID) after ctr exited 0.
            Assert.All(system.Clients, c => Assert.True(c.Seconds > 0 && c.Identical == true, $"{system.Name} {c.Host}: {c.Error}"));
            Assert.Equal([0, 1], system.Clients.Select(c => c.Wave).Order());
            Assert.NotNull(system.Waves);
            Assert.Equal([1, 2], system.Waves.Select(w => w.Wave));
            Assert.All(system.Waves, w => Assert.Equal((1, 1), (w.Clients, w.Done)));
            Assert.NotNull(system.P50Seconds);
            Assert.NotNull(system.P99Seconds);
            // Every node fetched the image once: at least its size left the seed host (p2pregistry's second node may use its peer).
            Assert.True(system.OriginEgressTimesF >= 1, $"{system.Name} origin egress {system.OriginEgressTimesF}×F");
        }

        Assert.Contains("unpacks", Reporting.MarkdownReport.Render(report), StringComparison.Ordinal);
        Assert.DoesNotContain(await NamespaceTestbed.ListHarnessNamespacesAsync(CancellationToken.None), ns => ns.StartsWith(runner.Run.RunPrefix, StringComparison.Ordinal));
        Assert.False(Directory.Exists(HarnessRunner.RunDirectoryFor(runner.Run)));
        // containerd's and ctr's command lines name the run's folder.
        Assert.Empty(LeftBehind.ProcessesMentioning(runner.Run.RunPrefix));
    }
}

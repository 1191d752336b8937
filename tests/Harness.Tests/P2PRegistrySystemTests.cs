using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Harness.Lab;
using P2PRegistry.Harness.Systems;
using P2PRegistry.Testing;
using Xunit.Abstractions;

namespace P2PRegistry.Harness.Tests;

/// <summary>The p2pregistry system: its seed side alone, then a whole small run with an Agent per client.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class P2PRegistrySystemTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StartSeedSide_OnNamespaces_OriginServesBlobAndTrackerServesItsTorrent()
    {
        Assert.True(Environment.UserName == "root", "This test creates network namespaces and must run as root (CI does).");
        var run = RunId.New();
        var dir = Directory.CreateDirectory(HarnessRunner.RunDirectoryFor(run)).FullName;
        var processes = new ProcessGroup(Path.Combine(dir, "pids"));
        var log = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var testbed = await NamespaceTestbed.CreateAsync(run, 1, 100, timeout.Token);
        var system = new P2PRegistrySystem();
        var context = new SystemContext
        {
            Testbed = testbed,
            Clients = testbed.Clients,
            Blob = await HarnessRunner.MakeBlobAsync(Path.Combine(dir, "blob"), 3 << 20, timeout.Token),
            WorkDirectory = Directory.CreateDirectory(Path.Combine(dir, "work")).FullName,
            Processes = processes,
            PieceLength = PieceLength.For(3 << 20),
            Timeout = TimeSpan.FromSeconds(60),
            Log = log,
        };
        try
        {
            var torrent = await system.StartSeedSideAsync(context, timeout.Token);

            var info = ((BencodeDictionary)BencodeDecoder.Decode(torrent)).GetDictionary("info")!;
            Assert.True(info.TryGetInteger("piece length", out var pieceLength));
            Assert.Equal(context.PieceLength, pieceLength);
            Assert.True(info.TryGetInteger("length", out var length));
            Assert.Equal(context.Blob.Length, length);

            // A client host pulls the blob from the Origin over its shaped link.
            var copy = Path.Combine(context.WorkDirectory, "copy");
            var pulled = await testbed.Clients[0].RunAsync("curl", ["-fsS", "-o", copy, $"{system.OriginUrl}/v2/{P2PRegistrySystem.Repository}/blobs/{context.Blob.Digest}"], timeout.Token);
            Assert.True(pulled.ExitCode == 0, pulled.StandardError);
            Assert.Equal(context.Blob.Sha256Hex, await HarnessRunner.Sha256HexAsync(copy, timeout.Token));
        }
        finally
        {
            await system.TeardownAsync(context);
            output.WriteLine(log.ToString());
            foreach (var name in new[] { "origin.log", "tracker.log" }.Select(n => Path.Combine(context.WorkDirectory, n)).Where(File.Exists))
            {
                output.WriteLine(File.ReadAllText(name));
            }

            Directory.Delete(dir, recursive: true);
        }

        Assert.Empty(LeftBehind.ProcessesMentioning(run.RunPrefix));
    }

    [Fact]
    public async Task Run_ThreeClientsThroughTheirAgents_AllIdenticalAndNothingLeft()
    {
        Assert.True(Environment.UserName == "root", "This test creates network namespaces and must run as root (CI does).");
        var options = Cli.HarnessArguments.Parse(["--agents", "3", "--size-mib", "4", "--rate-mbit", "100", "--systems", "p2pregistry", "--timeout-seconds", "40"]);
        var log = new StringWriter();
        var runner = new HarnessRunner(options, log);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        Reporting.HarnessReport report;
        try
        {
            report = await runner.RunAsync(timeout.Token);
        }
        finally
        {
            output.WriteLine(log.ToString());
        }

        var system = Assert.Single(Assert.Single(report.Runs).Systems);
        Assert.Equal("p2pregistry", system.Name);
        Assert.True(system.Available, system.Reason);
        Assert.True(system.Error is null, system.Error);
        Assert.Equal(3, system.Clients.Count);
        // Identical = the file curl got from the client's own Agent has the blob's SHA-256.
        Assert.All(system.Clients, c => Assert.True(c.Seconds > 0 && c.Identical == true, $"{c.Host}: {c.Error}"));
        Assert.Equal(3, system.Completed);
        Assert.True(system.SlowestToBound >= 1, $"p2pregistry beat the physical lower bound: {system.SlowestToBound}");
        Assert.NotNull(system.OriginLinkBytes);

        Assert.DoesNotContain(await NamespaceTestbed.ListHarnessNamespacesAsync(CancellationToken.None), ns => ns.StartsWith(runner.Run.RunPrefix, StringComparison.Ordinal));
        Assert.False(Directory.Exists(HarnessRunner.RunDirectoryFor(runner.Run)));
        Assert.Empty(LeftBehind.ProcessesMentioning(runner.Run.RunPrefix));
    }

    [Fact]
    public void MetricSum_SumsEverySampleOfTheName_NullWhenAbsent()
    {
        const string exposition = """
            # TYPE p2pregistry_agent_bytes_from_peers_bytes_total counter
            p2pregistry_agent_bytes_from_peers_bytes_total 1048576
            p2pregistry_agent_bytes_from_origins_bytes_total{origin="a"} 10
            p2pregistry_agent_bytes_from_origins_bytes_total{origin="b"} 2.5e1
            """;
        Assert.Equal(1048576, P2PRegistrySystem.MetricSum(exposition, "p2pregistry_agent_bytes_from_peers"));
        Assert.Equal(35, P2PRegistrySystem.MetricSum(exposition, "p2pregistry_agent_bytes_from_origins"));
        Assert.Null(P2PRegistrySystem.MetricSum(exposition, "p2pregistry_agent_cache_hits"));
    }
}

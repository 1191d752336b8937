using P2PRegistry.Harness.Cli;
using P2PRegistry.Harness.Lab;
using P2PRegistry.Testing;
using Xunit.Abstractions;

namespace P2PRegistry.Harness.Tests;

/// <summary>
/// The harness for real, small: 3 client namespaces, a 4 MiB blob, 100 Mbit links, docker-registry + curl and an
/// aria2c swarm. Needs root (namespaces) and the LAB.md tools, as CI has; it fails, never skips, without them.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class HarnessSmokeTests(ITestOutputHelper output)
{
    private static readonly string[] s_ourPrograms = ["curl", "aria2c", "docker-registry", "opentracker", "busybox", "sh", "bash", "ip", "cat", "read"];

    [Fact]
    public async Task Run_ThreeClientsRegistryAndAria2c_AllFinishIdenticalAndNothingLeft()
    {
        Assert.True(Environment.UserName == "root", "This test creates network namespaces and must run as root (CI does).");
        var options = HarnessArguments.Parse(["--agents", "3", "--size-mib", "4", "--rate-mbit", "100", "--systems", "registry,aria2c", "--timeout-seconds", "40"]);
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

        var run = Assert.Single(report.Runs);
        Assert.Equal(3, run.Clients);
        // Shaped, not the ~2 GB/s of a bare veth; loose, since parallel tests share the 2 cores.
        Assert.InRange(report.PayloadBytesPerSecond, 5e6, 13e6);
        Assert.Equal(["registry", "aria2c"], run.Systems.Select(s => s.Name));
        foreach (var system in run.Systems)
        {
            Assert.True(system.Error is null, $"{system.Name}: {system.Error}");
            Assert.Equal(3, system.Clients.Count);
            // Identical = the client's file has the blob's SHA-256.
            Assert.All(system.Clients, c => Assert.True(c.Seconds > 0 && c.Identical == true, $"{system.Name} {c.Host}: {c.Error}"));
            Assert.Equal(3, system.Completed);
            Assert.True(system.SlowestToBound >= 1, $"{system.Name} beat the physical lower bound: {system.SlowestToBound}");
            Assert.NotNull(system.OriginLinkBytes);
        }

        // A central server sends every copy: at least N·F leave the seed host.
        Assert.True(run.Systems[0].OriginEgressTimesF >= 3, $"registry origin egress {run.Systems[0].OriginEgressTimesF}×F");

        Assert.DoesNotContain(await NamespaceTestbed.ListHarnessNamespacesAsync(CancellationToken.None), ns => ns.StartsWith(runner.Run.RunPrefix, StringComparison.Ordinal));
        Assert.False(Directory.Exists(HarnessRunner.RunDirectoryFor(runner.Run)));
        Assert.Empty(OurChildren());
        Assert.Empty(LeftBehind.ProcessesMentioning(runner.Run.RunPrefix));
    }

    [Fact]
    public async Task Cleanup_LeftoverNamespaceAndFolder_Removed()
    {
        Assert.True(Environment.UserName == "root", "This test creates network namespaces and must run as root (CI does).");
        var run = RunId.New();
        var ns = run.ClientNamespace(1);
        var dir = Directory.CreateDirectory(HarnessRunner.RunDirectoryFor(run)).FullName;
        try
        {
            await Shell.CheckAsync("ip", ["netns", "add", ns], CancellationToken.None);
            // An owner that is not alive: a PID with a start time that cannot match.
            File.WriteAllText(Path.Combine(dir, "owner"), "1 999999999999\n");
            await LeftoverCleaner.CleanAsync(TextWriter.Null, CancellationToken.None);
            Assert.DoesNotContain(ns, await NamespaceTestbed.ListHarnessNamespacesAsync(CancellationToken.None));
            Assert.False(Directory.Exists(dir));
        }
        finally
        {
            await Shell.RunAsync("ip", ["netns", "del", ns], CancellationToken.None);
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Cleanup_LiveRun_LeftAlone()
    {
        var run = RunId.New();
        var dir = Directory.CreateDirectory(HarnessRunner.RunDirectoryFor(run)).FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "owner"), $"{Environment.ProcessId} {ProcessCpu.ReadStartTime(Environment.ProcessId)}\n");
            await LeftoverCleaner.CleanAsync(TextWriter.Null, CancellationToken.None);
            Assert.True(Directory.Exists(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static List<string> OurChildren()
    {
        var children = new List<string>();
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(proc, "stat"));
                var parsed = ProcessCpu.ParseStat(stat);
                var comm = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                if (parsed?.ParentPid == Environment.ProcessId && s_ourPrograms.Contains(comm))
                {
                    children.Add($"{pid} {comm}");
                }
            }
            catch (IOException)
            {
            }
        }

        return children;
    }
}

using System.Diagnostics;
using System.Text.RegularExpressions;
using P2PRegistry.Harness.Lab;
using P2PRegistry.Testing;
using Xunit.Abstractions;

namespace P2PRegistry.Harness.Tests;

/// <summary>
/// The harness as a real process, interrupted mid-fetch: Ctrl-C (SIGINT) and SIGTERM must both leave no namespace,
/// no process and no work folder behind.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed partial class InterruptTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 130)]
    public async Task Signal_DuringFetch_EverythingRemoved(string signal, int? expectedExit)
    {
        Assert.True(Environment.UserName == "root", "This test creates network namespaces and must run as root (CI does).");
        var dll = Path.Combine(AppContext.BaseDirectory, "P2PRegistry.Harness.dll");
        var outDir = Directory.CreateTempSubdirectory("p2ph-test-out-");
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // 2 × 32 MiB through one 100 Mbit link takes about 5.6 s: long enough to interrupt in the middle.
        foreach (var arg in new[] { dll, "--agents", "2", "--size-mib", "32", "--systems", "registry", "--out", outDir.FullName })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var lines = new List<string>();
        var released = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (lines)
            {
                lines.Add(e.Data);
            }

            if (e.Data.Contains("released at once", StringComparison.Ordinal))
            {
                released.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (lines)
                {
                    lines.Add("stderr: " + e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string prefix;
        try
        {
            await released.Task.WaitAsync(TimeSpan.FromSeconds(60));
            prefix = RunLine().Match(lines[0]).Groups[1].Value;
            Assert.StartsWith("p2ph-", prefix);
            await Shell.CheckAsync("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], CancellationToken.None);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(wait.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            lock (lines)
            {
                output.WriteLine(string.Join('\n', lines));
            }

            outDir.Delete(recursive: true);
        }

        if (expectedExit is { } code)
        {
            Assert.Equal(code, process.ExitCode);
        }

        Assert.DoesNotContain(await NamespaceTestbed.ListHarnessNamespacesAsync(CancellationToken.None), ns => ns.StartsWith(prefix, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), prefix)));
        Assert.Empty(LeftBehind.ProcessesMentioning(prefix));
    }

    [GeneratedRegex("^run (p2ph-[0-9a-f]{8}):")]
    private static partial Regex RunLine();
}

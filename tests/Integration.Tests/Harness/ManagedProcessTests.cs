using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Integration.Tests.Harness;

/// <summary>Drives busybox (sh, httpd): a third-party program, so Integration.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class ManagedProcessTests
{
    [Fact]
    public async Task StartAsync_ExitsBeforeReady_ThrowsWithItsOutput()
    {
        var options = new ManagedProcessOptions("sh", ["-c", "echo about-to-fail >&2; exit 4"])
        {
            Readiness = Readiness.TcpPort(FreePort.Next()),
        };

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => ManagedProcess.StartAsync(options));

        Assert.Contains("exited before it was ready", ex.Message, StringComparison.Ordinal);
        Assert.Contains("about-to-fail", ex.Message, StringComparison.Ordinal);
        Assert.Contains("exited with 4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_NeverReady_TimesOutAndStopsTheProcess()
    {
        var options = new ManagedProcessOptions("sh", ["-c", "echo waiting; exec sleep 60"])
        {
            Readiness = Readiness.UnixSocket(Path.Combine(Path.GetTempPath(), $"never-{Guid.NewGuid():N}.sock")),
            ReadyTimeout = TimeSpan.FromMilliseconds(300),
            StopGracePeriod = TimeSpan.FromSeconds(5),
        };

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => ManagedProcess.StartAsync(options));

        Assert.Contains("waiting", ex.Message, StringComparison.Ordinal);
        var pid = int.Parse(ex.Message.Split("(pid ")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"pid {pid} survived a failed start");
    }

    [Fact]
    public async Task StartAsync_TcpReadiness_WaitsUntilThePortAccepts()
    {
        using var www = new TempDirectory();
        var port = FreePort.Next();
        // busybox httpd binds 127.0.0.1 only after a delay, which the readiness probe must wait out.
        var options = new ManagedProcessOptions("busybox", ["sh", "-c", $"sleep 0.5; exec busybox httpd -f -p 127.0.0.1:{port} -h {www.Path}"])
        {
            Readiness = Readiness.TcpPort(port),
        };

        await using var process = await ManagedProcess.StartAsync(options);

        Assert.False(process.HasExited);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task StartAsync_HttpReadiness_WaitsFor200()
    {
        using var www = new TempDirectory();
        var port = FreePort.Next();
        // The server is up at once, but answers 404 until the file appears a moment later.
        var options = new ManagedProcessOptions("busybox", ["sh", "-c", $"(sleep 0.7; echo ok > {www.Path}/ready) & exec busybox httpd -f -p 127.0.0.1:{port} -h {www.Path}"])
        {
            Readiness = Readiness.HttpOk(new Uri($"http://127.0.0.1:{port}/ready")),
        };

        await using var process = await ManagedProcess.StartAsync(options);

        Assert.True(File.Exists(Path.Combine(www.Path, "ready")));
        Assert.Contains("ready after", process.RecentOutput(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAsync_ProgramIgnoresSigterm_IsKilledAfterTheGracePeriod()
    {
        var options = new ManagedProcessOptions("sh", ["-c", "trap '' TERM; echo $((40 + 2))-armed; while true; do sleep 0.1; done"])
        {
            StopGracePeriod = TimeSpan.FromMilliseconds(500),
        };
        await using var process = await ManagedProcess.StartAsync(options);
        await WaitForOutputAsync(process, "42-armed");

        await process.StopAsync();

        Assert.True(process.HasExited);
        Assert.Contains("SIGKILL", process.RecentOutput(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAsync_ProgramHandlesSigterm_ExitsGracefully()
    {
        var options = new ManagedProcessOptions("sh", ["-c", "trap 'echo got-$((1 + 1))-term; exit 0' TERM; echo $((40 + 2))-armed; while true; do sleep 0.1; done"]);
        await using var process = await ManagedProcess.StartAsync(options);
        await WaitForOutputAsync(process, "42-armed");

        await process.StopAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("got-2-term", process.RecentOutput(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kill_RunningProgram_IsGoneImmediately()
    {
        await using var process = await ManagedProcess.StartAsync(new ManagedProcessOptions("sleep", ["60"]));
        var pid = process.Id;

        process.Kill();

        Assert.True(process.HasExited);
        Assert.Equal(137, process.ExitCode);
        Assert.False(Directory.Exists($"/proc/{pid}"));
    }

    [Fact]
    public async Task DisposeAsync_RunningProgram_StopsIt()
    {
        var process = await ManagedProcess.StartAsync(new ManagedProcessOptions("sleep", ["60"]));
        var pid = process.Id;

        await process.DisposeAsync();

        Assert.False(Directory.Exists($"/proc/{pid}"));
    }

    [Fact]
    public async Task Output_GoesToRingBufferAndLogFile_RingKeepsTheLatestLines()
    {
        using var temp = new TempDirectory();
        var log = temp.Combine("logs", "counter.log");
        var options = new ManagedProcessOptions("sh", ["-c", "i=0; while [ $i -lt 50 ]; do echo line-$i; i=$((i+1)); done; echo done-all"])
        {
            LogFile = log,
            RecentLineCount = 10,
        };
        await using var process = ManagedProcess.Start(options);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await process.StopAsync();

        var recent = process.RecentOutput();
        Assert.Contains("done-all", recent, StringComparison.Ordinal);
        Assert.DoesNotContain("line-0\n", recent + "\n", StringComparison.Ordinal);
        var logged = File.ReadAllText(log);
        Assert.Contains("line-0", logged, StringComparison.Ordinal);
        Assert.Contains("line-49", logged, StringComparison.Ordinal);
    }

    /// <summary>Waits for a line the program printed (the harness's own "started" line quotes the command, so markers are computed by the shell).</summary>
    private static async Task WaitForOutputAsync(ManagedProcess process, string text)
    {
        for (var i = 0; i < 200 && !process.RecentOutput().Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(25);
        }

        Assert.Contains(text, process.RecentOutput(), StringComparison.Ordinal);
    }
}

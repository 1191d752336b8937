namespace P2PRegistry.Integration.Tests.Harness;

public sealed class ProcessRunnerTests
{
    [Fact]
    public async Task RunAsync_ProgramWritesBothStreams_CapturesExitCodeAndOutputs()
    {
        var result = await ProcessRunner.RunAsync("sh", ["-c", "echo out; echo err >&2; exit 3"], TimeSpan.FromSeconds(30));

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out\n", result.StandardOutput);
        Assert.Equal("err\n", result.StandardError);
    }

    [Fact]
    public async Task RunOrThrowAsync_NonZeroExit_ExceptionShowsCommandLineAndBothOutputs()
    {
        var ex = await Assert.ThrowsAsync<ProcessFailedException>(
            () => ProcessRunner.RunOrThrowAsync("sh", ["-c", "echo to-stdout; echo to-stderr >&2; exit 7"], TimeSpan.FromSeconds(30)));

        Assert.Equal(7, ex.Result.ExitCode);
        Assert.Contains("sh -c 'echo to-stdout; echo to-stderr >&2; exit 7'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("exited with 7", ex.Message, StringComparison.Ordinal);
        Assert.Contains("to-stdout", ex.Message, StringComparison.Ordinal);
        Assert.Contains("to-stderr", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_PastTimeout_KillsTheProgramAndShowsItsOutput()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"runner-{Guid.NewGuid():N}");
        try
        {
            var ex = await Assert.ThrowsAsync<TimeoutException>(
                () => ProcessRunner.RunAsync("sh", ["-c", $"echo $$ > {pidFile}; echo started; exec sleep 60"], TimeSpan.FromMilliseconds(500)));

            Assert.Contains("started", ex.Message, StringComparison.Ordinal);
            var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.False(Directory.Exists($"/proc/{pid}"), $"pid {pid} still exists after the timeout");
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task RunAsync_WithEnvironmentAndWorkingDirectory_ProgramSeesBoth()
    {
        using var temp = new TempDirectory();
        var options = new ProcessRunOptions
        {
            Environment = new Dictionary<string, string?> { ["P2PR_PROBE"] = "set-by-test" },
            WorkingDirectory = temp.Path,
        };

        var result = await ProcessRunner.RunOrThrowAsync("sh", ["-c", "echo $P2PR_PROBE; pwd"], options);

        Assert.Equal($"set-by-test\n{temp.Path}\n", result.StandardOutput);
    }

    [Fact]
    public async Task RunAsync_MissingProgram_ThrowsNamingIt()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => ProcessRunner.RunAsync("no-such-program-p2pr", ["x"]));
        Assert.Contains("no-such-program-p2pr", ex.Message, StringComparison.Ordinal);
    }
}

using System.Diagnostics;
using System.Text;

namespace P2PRegistry.Testing.Processes;

/// <summary>Runs a short-lived program to completion and captures its output.</summary>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Runs <paramref name="fileName"/> with <paramref name="arguments"/> (no shell involved) and returns its exit code and output.
    /// A program still running at <paramref name="timeout"/> is killed (with its children) and reported as a <see cref="TimeoutException"/>.
    /// </summary>
    public static Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(fileName, arguments, new ProcessRunOptions { Timeout = timeout ?? DefaultTimeout }, cancellationToken);

    /// <summary>As the other overload, with an environment and a working directory.</summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        ProcessRunOptions options,
        CancellationToken cancellationToken = default)
    {
        var timeout = options.Timeout;
        var environment = options.Environment;
        var workingDirectory = options.WorkingDirectory;
        var argumentList = arguments.ToList();
        var commandLine = CommandLine.Format(fileName, argumentList);
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in argumentList)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                startInfo.Environment[key] = value;
            }
        }

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InvalidOperationException($"Cannot start `{commandLine}`: {ex.Message}", ex);
        }

        // No program here reads stdin; closing it keeps one that tries from hanging.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            await WaitAfterKillAsync(process).ConfigureAwait(false);
            var partial = new ProcessResult(commandLine, -1, Snapshot(stdout), Snapshot(stderr));
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException($"Cancelled while running {partial.Describe()}", cancellationToken);
            }

            throw new TimeoutException($"Timed out after {timeout}: {partial.Describe()}");
        }

        // WaitForExitAsync returns once the redirected streams reached end of file, so the output is complete.
        return new ProcessResult(commandLine, process.ExitCode, Snapshot(stdout), Snapshot(stderr));
    }

    /// <summary>As <see cref="RunAsync"/>, but a non-zero exit code throws <see cref="ProcessFailedException"/> showing the command and both outputs.</summary>
    public static Task<ProcessResult> RunOrThrowAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        RunOrThrowAsync(fileName, arguments, new ProcessRunOptions { Timeout = timeout ?? DefaultTimeout }, cancellationToken);

    /// <summary>As the other overload, with an environment and a working directory.</summary>
    public static async Task<ProcessResult> RunOrThrowAsync(
        string fileName,
        IEnumerable<string> arguments,
        ProcessRunOptions options,
        CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(fileName, arguments, options, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new ProcessFailedException(result);
        }

        return result;
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private static async Task WaitAfterKillAsync(Process process)
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A process stuck in uninterruptible I/O; nothing more we can do from here.
        }
    }
}

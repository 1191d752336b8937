using System.Diagnostics;

namespace P2PRegistry.Harness.Lab;

/// <summary>Runs a short command to completion and captures its output (ip, tc, mktorrent, curl for setup).</summary>
internal static class Shell
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        return await RunAsync(psi, cancellationToken, timeout).ConfigureAwait(false);
    }

    public static async Task<Result> RunAsync(ProcessStartInfo psi, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {psi.FileName}.");
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stop what we started, by its PID, before giving up on it.
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            throw;
        }

        return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Runs and throws with the command line and its error output when the exit code is not 0.</summary>
    public static async Task<string> CheckAsync(string file, IEnumerable<string> args, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var list = args.ToList();
        var result = await RunAsync(file, list, cancellationToken, timeout).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{file} {string.Join(' ', list)}' exited with {result.ExitCode}: {result.StandardError.Trim()}");
        }

        return result.StandardOutput;
    }

    /// <summary>Blocking run for process-exit handlers (no async continuations there); returns standard output.</summary>
    public static string RunNow(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit(10_000);
            return stdout;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}

using System.Diagnostics;
using System.Globalization;

namespace P2PRegistry.Harness.Lab;

/// <summary>
/// Every process a run starts, so that every one is stopped by its PID whatever happens. Each PID and its start
/// time also go to <c>pids</c> in the run folder, so <c>--cleanup</c> can stop the processes of a run that died
/// without risking a PID that the system has since reused.
/// </summary>
internal sealed class ProcessGroup(string pidFile)
{
    private readonly Lock _lock = new();
    private readonly List<Tracked> _processes = [];

    internal sealed record Tracked(string Name, Process Process, string LogPath)
    {
        public int Pid { get; } = Process.Id;
    }

    /// <summary>
    /// Starts <paramref name="psi"/> with output to <paramref name="logPath"/>. The command goes through
    /// <c>sh -c 'exec …'</c> so the PID is the program's own (ip netns exec execs too).
    /// </summary>
    public Tracked Start(string name, LabHost host, IReadOnlyList<string> command, string logPath, string? waitFifo = null)
    {
        var script = waitFifo is null
            ? "exec \"$@\" >>\"$HARNESS_LOG\" 2>&1"
            : "read -r _ <\"$HARNESS_FIFO\" || true; exec \"$@\" >>\"$HARNESS_LOG\" 2>&1";
        var env = new Dictionary<string, string> { ["HARNESS_LOG"] = logPath };
        if (waitFifo is not null)
        {
            env["HARNESS_FIFO"] = waitFifo;
        }

        return StartScript(name, host, "/bin/sh", script, command, env, logPath);
    }

    /// <summary>Starts <paramref name="shell"/> <c>-c</c> <paramref name="script"/> with <paramref name="command"/> as <c>$@</c>.</summary>
    public Tracked StartScript(
        string name, LabHost host, string shell, string script, IReadOnlyList<string> command,
        IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var psi = host.Command(shell, ["-c", script, "sh", .. command]);
        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }

        return Start(name, psi, logPath);
    }

    public Tracked Start(string name, ProcessStartInfo psi, string logPath)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardInput = false;
        lock (_lock)
        {
            var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {name}.");
            var tracked = new Tracked(name, process, logPath);
            _processes.Add(tracked);
            var start = ProcessCpu.ReadStartTime(tracked.Pid);
            File.AppendAllText(pidFile, string.Create(CultureInfo.InvariantCulture, $"{tracked.Pid} {start}\n"));
            return tracked;
        }
    }

    public IReadOnlyList<Tracked> Snapshot()
    {
        lock (_lock)
        {
            return [.. _processes];
        }
    }

    /// <summary>Stops one process (and anything it started) by PID: SIGTERM, then SIGKILL after a grace period.</summary>
    public static async Task StopAsync(Tracked tracked, TimeSpan grace)
    {
        var process = tracked.Process;
        if (!HasExited(process))
        {
            _ = Shell.RunAsync("kill", ["-TERM", tracked.Pid.ToString(CultureInfo.InvariantCulture)], CancellationToken.None);
            using var wait = new CancellationTokenSource(grace);
            try
            {
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                KillNow(tracked);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    public async Task StopAllAsync(TimeSpan grace)
    {
        var all = Snapshot();
        await Task.WhenAll(all.Select(p => StopAsync(p, grace))).ConfigureAwait(false);
        lock (_lock)
        {
            foreach (var p in all)
            {
                p.Process.Dispose();
                _processes.Remove(p);
            }
        }
    }

    /// <summary>Synchronous last resort for process exit and Ctrl-C: SIGKILL every tracked PID that still runs.</summary>
    public void KillAllNow()
    {
        foreach (var p in Snapshot())
        {
            KillNow(p);
        }
    }

    private static void KillNow(Tracked tracked)
    {
        try
        {
            if (!tracked.Process.HasExited)
            {
                tracked.Process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    private static bool HasExited(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }
}

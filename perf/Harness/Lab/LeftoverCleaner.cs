using System.Globalization;

namespace P2PRegistry.Harness.Lab;

/// <summary>
/// <c>--cleanup</c>: removes what earlier runs left behind (a killed harness cannot clean up after itself). A run
/// whose owner process still lives is running concurrently and is left alone. Processes are stopped by the PIDs the
/// run recorded, and only when their start time still matches, so a reused PID is never hit.
/// </summary>
internal static class LeftoverCleaner
{
    public static async Task<int> CleanAsync(TextWriter log, CancellationToken cancellationToken)
    {
        var runs = new HashSet<string>();
        foreach (var ns in await NamespaceTestbed.ListHarnessNamespacesAsync(cancellationToken).ConfigureAwait(false))
        {
            runs.Add(RunId.IdOf(ns)!);
        }

        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), RunId.Prefix + "*"))
        {
            if (RunId.IdOf(Path.GetFileName(dir)) is { } id)
            {
                runs.Add(id);
            }
        }

        var removed = 0;
        foreach (var id in runs)
        {
            var run = RunId.Parse(id);
            var dir = HarnessRunner.RunDirectoryFor(run);
            if (IsAlive(Path.Combine(dir, "owner")))
            {
                log.WriteLine($"{run.RunPrefix}: still running, left alone");
                continue;
            }

            var killed = KillRecorded(Path.Combine(dir, "pids"));
            var namespaces = (await NamespaceTestbed.ListHarnessNamespacesAsync(cancellationToken).ConfigureAwait(false))
                .Where(ns => RunId.IdOf(ns) == id).ToList();
            foreach (var ns in namespaces)
            {
                await NamespaceTestbed.DeleteNamespaceAsync(ns).ConfigureAwait(false);
            }

            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }

            log.WriteLine($"{run.RunPrefix}: stopped {killed} processes, deleted {namespaces.Count} namespaces");
            removed++;
        }

        log.WriteLine($"cleanup: {removed} leftover runs removed");
        return removed;
    }

    /// <summary>A "pid starttime" file names a live process when that PID exists and started at that time.</summary>
    private static bool IsAlive(string ownerFile) =>
        File.Exists(ownerFile) && ParsePidLines(File.ReadAllText(ownerFile)).Any(p => ProcessCpu.ReadStartTime(p.Pid) == p.StartTime);

    private static int KillRecorded(string pidFile)
    {
        if (!File.Exists(pidFile))
        {
            return 0;
        }

        var killed = 0;
        foreach (var (pid, start) in ParsePidLines(File.ReadAllText(pidFile)))
        {
            if (ProcessCpu.ReadStartTime(pid) == start)
            {
                try
                {
                    System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: true);
                    killed++;
                }
                catch (ArgumentException)
                {
                }
                catch (InvalidOperationException)
                {
                }
            }
        }

        return killed;
    }

    public static IEnumerable<(int Pid, ulong StartTime)> ParsePidLines(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            {
                yield return (pid, start);
            }
        }
    }
}

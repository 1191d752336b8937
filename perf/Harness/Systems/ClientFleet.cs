using System.Globalization;
using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Systems;

/// <summary>
/// Starts N client processes behind one <see cref="StartBarrier"/> and waits for each one's completion mark: a
/// file "&lt;exit code&gt; &lt;unix time&gt;" written when its last byte arrived. Time is measured from the barrier's
/// release, on the same clock (one machine).
/// </summary>
internal static class ClientFleet
{
    /// <summary>How the client program signals completion.</summary>
    public enum Completion
    {
        /// <summary>The program exits when done (curl): the wrapper writes the mark and bash's <c>times</c>.</summary>
        Exits,

        /// <summary>The program keeps running (an aria2c leecher then seeds): a hook it runs writes the mark.</summary>
        Hook,
    }

    public sealed record Client(LabHost Host, IReadOnlyList<string> Command, string OutputPath, string DoneFile);

    public sealed record Outcome(IReadOnlyList<ClientResult> Results, IReadOnlyList<ProcessGroup.Tracked> Processes);

    // bash, for `times`: the children's user and system CPU is the client program's (plus one `read`).
    private const string ExitsScript =
        "read -r _ <\"$HARNESS_FIFO\" || true; \"$@\" >>\"$HARNESS_LOG\" 2>&1; rc=$?; times >\"$HARNESS_CPU\"; " +
        "echo \"$rc $(date +%s.%N)\" >\"$HARNESS_DONE.tmp\" && mv \"$HARNESS_DONE.tmp\" \"$HARNESS_DONE\"; exit $rc";

    private const string HookScript = "read -r _ <\"$HARNESS_FIFO\" || true; exec \"$@\" >>\"$HARNESS_LOG\" 2>&1";

    /// <summary>A hook script for programs that run a command on completion (aria2c --on-bt-download-complete).</summary>
    public static string WriteHook(string directory, string doneFile)
    {
        var path = Path.Combine(directory, Path.GetFileNameWithoutExtension(doneFile) + ".hook.sh");
        File.WriteAllText(path, $"#!/bin/sh\necho \"0 $(date +%s.%N)\" >'{doneFile}.tmp' && mv '{doneFile}.tmp' '{doneFile}'\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <param name="barrierName">The barrier FIFO's file name in the work folder: one per group of clients started together (a wave).</param>
    public static async Task<Outcome> RunAsync(SystemContext context, IReadOnlyList<Client> clients, Completion completion, CancellationToken cancellationToken, string barrierName = "start.fifo")
    {
        using var barrier = await StartBarrier.CreateAsync(Path.Combine(context.WorkDirectory, barrierName), cancellationToken).ConfigureAwait(false);
        var started = new List<ProcessGroup.Tracked>();
        foreach (var client in clients)
        {
            var log = Path.Combine(context.WorkDirectory, client.Host.Name + ".log");
            var env = new Dictionary<string, string>
            {
                ["HARNESS_FIFO"] = barrier.Path,
                ["HARNESS_LOG"] = log,
                ["HARNESS_DONE"] = client.DoneFile,
                ["HARNESS_CPU"] = client.DoneFile + ".cpu",
            };
            started.Add(completion == Completion.Exits
                ? context.Processes.StartScript(client.Host.Name, client.Host, "/bin/bash", ExitsScript, client.Command, env, log)
                : context.Processes.StartScript(client.Host.Name, client.Host, "/bin/sh", HookScript, client.Command, env, log));
        }

        var released = await barrier.ReleaseAsync([.. started.Select(p => p.Pid)], TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        context.Log.WriteLine($"    {clients.Count} clients released at once ({DateTimeOffset.FromUnixTimeMilliseconds((long)(released * 1000)):HH:mm:ss.fff} UTC)");

        var results = new ClientResult?[clients.Count];
        var deadline = DateTime.UtcNow + context.Timeout;
        while (results.Any(r => r is null))
        {
            for (var i = 0; i < clients.Count; i++)
            {
                if (results[i] is not null)
                {
                    continue;
                }

                var client = clients[i];
                var process = started[i];
                if (File.Exists(client.DoneFile))
                {
                    results[i] = Finished(client, process, released, completion);
                }
                else if (process.Process.HasExited)
                {
                    // The mark is written before exit; look once more to close that race.
                    results[i] = File.Exists(client.DoneFile)
                        ? Finished(client, process, released, completion)
                        : new ClientResult(client.Host.Name, null, client.OutputPath, null, $"exited with {process.Process.ExitCode} before finishing; see {process.LogPath}");
                }
                else if (DateTime.UtcNow > deadline)
                {
                    results[i] = new ClientResult(client.Host.Name, null, client.OutputPath, ProcessCpu.ReadSeconds(process.Pid), $"timed out after {context.Timeout.TotalSeconds:0} s");
                }
            }

            if (results.Any(r => r is null))
            {
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
        }

        return new Outcome([.. results.Select(r => r!)], started);
    }

    private static ClientResult Finished(Client client, ProcessGroup.Tracked process, double released, Completion completion)
    {
        var mark = File.ReadAllText(client.DoneFile).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var code = int.Parse(mark[0], CultureInfo.InvariantCulture);
        var at = double.Parse(mark[1], CultureInfo.InvariantCulture);
        double? cpu = completion == Completion.Exits
            ? ReadBashTimes(client.DoneFile + ".cpu")
            : ProcessCpu.ReadSeconds(process.Pid);
        return code == 0
            ? new ClientResult(client.Host.Name, Math.Max(0, at - released), client.OutputPath, cpu, null)
            : new ClientResult(client.Host.Name, null, client.OutputPath, cpu, $"exited with {code}; see {process.LogPath}");
    }

    private static double? ReadBashTimes(string path) =>
        File.Exists(path) ? ProcessCpu.ParseBashTimes(File.ReadAllText(path)) : null;
}

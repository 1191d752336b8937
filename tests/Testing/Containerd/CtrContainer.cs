using System.Diagnostics;
using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Containerd;

/// <summary>
/// A long-running container of an image pulled into a <see cref="ContainerdProcess"/>: <c>ctr run --rm [--net-host]
/// --env K=V … image id</c> in the foreground (ctr forwards signals to the task and copies its output, which the
/// failure messages show), started like any daemon of the kit and ready when its <see cref="Readiness"/> passes.
/// Dispose stops the task with SIGTERM (SIGKILL after the grace period) and removes the container.
/// </summary>
public sealed class CtrContainer : IAsyncDisposable
{
    private readonly ContainerdProcess _containerd;

    private CtrContainer(ContainerdProcess containerd, string id, ManagedProcess process, TimeSpan startedToReady)
    {
        _containerd = containerd;
        Id = id;
        Process = process;
        StartedToReady = startedToReady;
    }

    public string Id { get; }

    /// <summary>The <c>ctr run</c> process.</summary>
    public ManagedProcess Process { get; }

    /// <summary>From starting <c>ctr run</c> to the readiness check passing (measured, 50 ms polling).</summary>
    public TimeSpan StartedToReady { get; }

    public static async Task<CtrContainer> RunAsync(
        ContainerdProcess containerd,
        string image,
        IReadOnlyDictionary<string, string> environment,
        Readiness readiness,
        TimeSpan readyTimeout,
        Action<string>? onOutputLine = null,
        bool hostNetwork = true,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(containerd);
        ArgumentNullException.ThrowIfNull(environment);
        var id = $"c-{Guid.NewGuid().ToString("N")[..10]}";
        // Without --net-host runc gives the container a network namespace of its own with only lo (up): whatever it
        // binds, 0.0.0.0 included, is reachable from inside it alone (ExecAsync), never from the host.
        List<string> arguments = ["-a", containerd.Socket, "run", "--rm"];
        if (hostNetwork)
        {
            arguments.Add("--net-host");
        }
        foreach (var (key, value) in environment)
        {
            arguments.AddRange(["--env", $"{key}={value}"]);
        }

        arguments.AddRange([image, id]);
        var stopwatch = Stopwatch.StartNew();
        var process = await ManagedProcess.StartAsync(
            new ManagedProcessOptions("ctr", arguments)
            {
                Name = $"ctr run {image} ({id})",
                OnOutputLine = onOutputLine,
                Readiness = readiness,
                ReadyTimeout = readyTimeout,
                StopGracePeriod = TimeSpan.FromSeconds(20),
            },
            cancellationToken).ConfigureAwait(false);
        return new CtrContainer(containerd, id, process, stopwatch.Elapsed);
    }

    /// <summary><c>ctr task exec</c> in the running container, with its environment and user: the result whatever the exit code.</summary>
    public Task<ProcessResult> ExecAsync(IEnumerable<string> command, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _containerd.CtrAsync(["task", "exec", "--exec-id", $"x-{Guid.NewGuid().ToString("N")[..8]}", Id, .. command], timeout ?? TimeSpan.FromMinutes(1), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        // SIGTERM to ctr reaches the task (ctr forwards signals); --rm then deletes the container.
        await Process.DisposeAsync().ConfigureAwait(false);
        // If ctr had to be killed, the task and container are left: remove them (each a no-op when already gone).
        await _containerd.CtrAsync(["task", "kill", "--signal", "SIGKILL", Id], TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        await _containerd.CtrAsync(["task", "delete", "--force", Id], TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        await _containerd.CtrAsync(["containers", "delete", Id], TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }
}

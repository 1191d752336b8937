using System.Globalization;
using System.Text;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Containerd;

/// <summary>
/// A private containerd daemon: its own root, state, socket and config under a temp directory, driven with
/// <c>ctr -a &lt;socket&gt;</c>; without CRI, or with it (<see cref="StartWithCriAsync"/>) for kubelet's pulls. Dispose stops it, kills any shim it left, unmounts whatever is still mounted
/// under its directory, and deletes the directory.
/// </summary>
public sealed class ContainerdProcess : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly ManagedProcess _process;

    private ContainerdProcess(TempDirectory directory, ManagedProcess process)
    {
        _directory = directory;
        _process = process;
    }

    public string Directory => _directory.Path;

    public string Root => _directory.Combine("root");

    public string State => _directory.Combine("state");

    public string Socket => _directory.Combine("containerd.sock");

    /// <summary>A <c>--hosts-dir</c> for ctr: see <see cref="WriteHostsToml"/>.</summary>
    public string HostsDirectory => _directory.Combine("hosts");

    public ManagedProcess Process => _process;

    /// <summary>The daemon's <c>config.toml</c> (version 2).</summary>
    public string ConfigFile => _directory.Combine("config.toml");

    /// <summary>The containerd namespace the CRI plugin keeps kubelet's images in (<c>ctr -n k8s.io images ls</c>).</summary>
    public const string CriNamespace = "k8s.io";

    public static Task<ContainerdProcess> StartAsync(Action<string>? onOutputLine = null, CancellationToken cancellationToken = default) =>
        StartAsync(cri: false, onOutputLine, cancellationToken);

    /// <summary>
    /// With the CRI plugin loaded (pull with <see cref="CriImageClient"/>): its <c>registry.config_path</c> is
    /// <see cref="HostsDirectory"/>, CNI points at empty folders (no pod networking: image pulls only).
    /// </summary>
    public static Task<ContainerdProcess> StartWithCriAsync(Action<string>? onOutputLine = null, CancellationToken cancellationToken = default) =>
        StartAsync(cri: true, onOutputLine, cancellationToken);

    private static async Task<ContainerdProcess> StartAsync(bool cri, Action<string>? onOutputLine, CancellationToken cancellationToken)
    {
        var directory = new TempDirectory("ctd");
        try
        {
            var config = directory.Combine("config.toml");
            await File.WriteAllTextAsync(config, cri ? CriConfigToml(directory) : ConfigToml(directory), cancellationToken).ConfigureAwait(false);
            System.IO.Directory.CreateDirectory(directory.Combine("hosts"));
            var socket = directory.Combine("containerd.sock");
            var options = new ManagedProcessOptions("containerd", ["--config", config])
            {
                Name = "containerd",
                OnOutputLine = onOutputLine,
                Readiness = Readiness.UnixSocket(socket),
                ReadyTimeout = TimeSpan.FromSeconds(30),
            };
            var process = await ManagedProcess.StartAsync(options, cancellationToken).ConfigureAwait(false);
            return new ContainerdProcess(directory, process);
        }
        catch
        {
            await CleanUpAsync(directory).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs <c>ctr -a &lt;socket&gt; args…</c>.</summary>
    public Task<ProcessResult> CtrAsync(IEnumerable<string> arguments, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ProcessRunner.RunAsync("ctr", ["-a", Socket, .. arguments], timeout, cancellationToken);

    /// <summary>Runs <c>ctr -a &lt;socket&gt; args…</c>; a non-zero exit throws with the command and its output.</summary>
    public Task<ProcessResult> CtrOrThrowAsync(IEnumerable<string> arguments, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ProcessRunner.RunOrThrowAsync("ctr", ["-a", Socket, .. arguments], timeout, cancellationToken);

    /// <summary><c>ctr -a &lt;socket&gt; args…</c> with the default timeout, throwing on failure.</summary>
    public Task<ProcessResult> Ctr(params string[] arguments) => CtrOrThrowAsync(arguments);

    /// <summary>
    /// Writes <c>&lt;hosts dir&gt;/&lt;registryHost&gt;/hosts.toml</c> (registryHost may be <c>_default</c>) so that
    /// <c>ctr images pull --hosts-dir</c> tries <paramref name="mirrors"/> in order, then <paramref name="server"/>.
    /// </summary>
    public string WriteHostsToml(string registryHost, Uri? server, params Uri[] mirrors)
    {
        var toml = new StringBuilder();
        if (server is not null)
        {
            toml.AppendLine(CultureInfo.InvariantCulture, $"server = \"{server.ToString().TrimEnd('/')}\"");
        }

        foreach (var mirror in mirrors)
        {
            toml.AppendLine(CultureInfo.InvariantCulture, $"[host.\"{mirror.ToString().TrimEnd('/')}\"]")
                .AppendLine("  capabilities = [\"pull\", \"resolve\"]");
        }

        var folder = System.IO.Directory.CreateDirectory(Path.Combine(HostsDirectory, registryHost)).FullName;
        var path = Path.Combine(folder, "hosts.toml");
        File.WriteAllText(path, toml.ToString());
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            await CleanUpAsync(_directory).ConfigureAwait(false);
        }
    }

    private static async Task CleanUpAsync(TempDirectory directory)
    {
        KillShims(directory.Combine("containerd.sock"));
        await UnmountUnderAsync(directory.Path).ConfigureAwait(false);
        directory.Dispose();
    }

    /// <summary>Shims outlive the daemon by design (they are reparented); find ours by the socket in their command line.</summary>
    private static void KillShims(string socket)
    {
        foreach (var proc in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid))
            {
                continue;
            }

            string commandLine;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (commandLine.Contains("containerd-shim", StringComparison.Ordinal) && commandLine.Contains(socket, StringComparison.Ordinal))
            {
                Signals.Send(pid, Signals.SigKill);
            }
        }
    }

    /// <summary>Unmounts every mount point under <paramref name="directory"/>, deepest first; lazily when busy.</summary>
    public static async Task UnmountUnderAsync(string directory)
    {
        var prefix = directory.TrimEnd('/') + "/";
        for (var round = 0; round < 5; round++)
        {
            var mounts = MountPointsUnder(prefix);
            if (mounts.Count == 0)
            {
                return;
            }

            foreach (var mount in mounts.OrderByDescending(m => m.Length))
            {
                var result = await ProcessRunner.RunAsync("umount", [mount], TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    await ProcessRunner.RunAsync("umount", ["-l", mount], TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                }
            }
        }

        var left = MountPointsUnder(prefix);
        if (left.Count > 0)
        {
            throw new InvalidOperationException($"Still mounted under {directory}: {string.Join(", ", left)}");
        }
    }

    private static List<string> MountPointsUnder(string prefix)
    {
        // /proc/self/mountinfo: "id parent major:minor root mountpoint options …"; spaces in paths are escaped as \040.
        var result = new List<string>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length < 5)
            {
                continue;
            }

            var mountPoint = UnescapeOctal(fields[4]);
            if (mountPoint.StartsWith(prefix, StringComparison.Ordinal))
            {
                result.Add(mountPoint);
            }
        }

        return result;
    }

    private static string UnescapeOctal(string value)
    {
        if (!value.Contains('\\', StringComparison.Ordinal))
        {
            return value;
        }

        var builder = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 3 < value.Length)
            {
                builder.Append((char)Convert.ToInt32(value.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                builder.Append(value[i]);
            }
        }

        return builder.ToString();
    }

    private static string ConfigToml(TempDirectory directory) =>
        $"""
        version = 2
        root = "{directory.Combine("root")}"
        state = "{directory.Combine("state")}"
        disabled_plugins = ["io.containerd.grpc.v1.cri"]

        [grpc]
          address = "{directory.Combine("containerd.sock")}"

        [plugins."io.containerd.internal.v1.opt"]
          path = "{directory.Combine("opt")}"
        """;

    private static string CriConfigToml(TempDirectory directory) =>
        $"""
        version = 2
        root = "{directory.Combine("root")}"
        state = "{directory.Combine("state")}"

        [grpc]
          address = "{directory.Combine("containerd.sock")}"

        [plugins."io.containerd.internal.v1.opt"]
          path = "{directory.Combine("opt")}"

        [plugins."io.containerd.grpc.v1.cri"]
          disable_tcp_service = true
          stream_server_address = "127.0.0.1"
          stream_server_port = "0"

          [plugins."io.containerd.grpc.v1.cri".cni]
            bin_dir = "{directory.Combine("cni", "bin")}"
            conf_dir = "{directory.Combine("cni", "conf")}"

          [plugins."io.containerd.grpc.v1.cri".registry]
            config_path = "{directory.Combine("hosts")}"
        """;
}

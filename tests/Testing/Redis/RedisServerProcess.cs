using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Networking;
using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Redis;

/// <summary>
/// A private <c>redis-server</c> on 127.0.0.1 and a free port, without persistence (a restart starts empty, as a
/// Redis that lost its data would), its folder a temp directory. <see cref="Kill"/> + <see cref="RestartAsync"/> keep
/// the port. Stopped by PID on dispose.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly TempDirectory _directory = new("redis");
    private ManagedProcess? _process;

    private RedisServerProcess(int port) => Port = port;

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string for this server (<c>Tracker:Redis:Configuration</c>).</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public ManagedProcess Process => _process ?? throw new InvalidOperationException("redis-server is not running.");

    public static async Task<RedisServerProcess> StartAsync(Action<string>? onOutputLine = null)
    {
        var server = new RedisServerProcess(FreePort.Next());
        try
        {
            await server.StartProcessAsync(onOutputLine).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>SIGKILL now (a crash): connected clients see their connections reset.</summary>
    public void Kill() => _process?.Kill();

    /// <summary>Starts a new redis-server on the same port (empty: nothing was persisted).</summary>
    public async Task RestartAsync(Action<string>? onOutputLine = null)
    {
        if (_process is not null)
        {
            await _process.DisposeAsync().ConfigureAwait(false);
        }

        await StartProcessAsync(onOutputLine).ConfigureAwait(false);
    }

    private async Task StartProcessAsync(Action<string>? onOutputLine)
    {
        var options = new ManagedProcessOptions("redis-server",
        [
            "--bind", "127.0.0.1",
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--dir", _directory.Path,
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "yes",
        ])
        {
            Name = "redis",
            OnOutputLine = onOutputLine,
            Readiness = Readiness.TcpPort(Port),
            StopGracePeriod = TimeSpan.FromSeconds(5),
        };
        _process = await ManagedProcess.StartAsync(options).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_process is not null)
            {
                await _process.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _directory.Dispose();
        }
    }
}

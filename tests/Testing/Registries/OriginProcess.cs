using System.Net;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Networking;
using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Registries;

/// <summary>
/// Our Origin registry as a real process: <c>dotnet P2PRegistry.Origin.dll --urls http://127.0.0.1:port --Origin:StoragePath=dir</c>,
/// ready when <c>GET /v2/</c> answers. It can be killed and restarted on the same port and storage to test recovery.
/// </summary>
public sealed class OriginProcess : IRegistryProcess
{
    private readonly OriginOptions _options;
    private readonly TempDirectory? _ownedStorage;
    private ManagedProcess _process;

    private OriginProcess(OriginOptions options, int port, string storagePath, TempDirectory? ownedStorage, ManagedProcess process)
    {
        _options = options;
        Port = port;
        StoragePath = storagePath;
        _ownedStorage = ownedStorage;
        _process = process;
    }

    public string Kind => "origin";

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public string StoragePath { get; }

    /// <summary>The current process (a new one after <see cref="RestartAsync"/>).</summary>
    public ManagedProcess Process => _process;

    public static async Task<OriginProcess> StartAsync(OriginOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new OriginOptions();
        var port = options.Port == 0 ? FreePort.Next() : options.Port;
        TempDirectory? owned = null;
        var storage = options.StoragePath;
        if (storage is null)
        {
            owned = new TempDirectory("origin");
            storage = owned.Path;
        }

        try
        {
            var process = await LaunchAsync(options, port, storage, cancellationToken).ConfigureAwait(false);
            return new OriginProcess(options, port, storage, owned, process);
        }
        catch
        {
            owned?.Dispose();
            throw;
        }
    }

    /// <summary>SIGKILL the origin now (a crash).</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM, then SIGKILL after the grace period.</summary>
    public Task StopAsync() => _process.StopAsync();

    /// <summary>Stops the current process if it still runs, then starts a new one on the same port and storage.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await _process.DisposeAsync().ConfigureAwait(false);
        _process = await LaunchAsync(_options, Port, StoragePath, cancellationToken).ConfigureAwait(false);
    }

    public string Describe() => _process.Describe();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _ownedStorage?.Dispose();
        }
    }

    private static Task<ManagedProcess> LaunchAsync(OriginOptions options, int port, string storage, CancellationToken cancellationToken)
    {
        var dll = RepositoryPaths.ProjectDll("Origin", "P2PRegistry.Origin");
        var arguments = new List<string>
        {
            dll,
            "--urls", $"http://127.0.0.1:{port}",
            $"--Origin:StoragePath={storage}",
            // The peer port defaults to 6881; origins started side by side need their own (ExtraArguments may override).
            "--Origin:Peer:Port=0",
        };
        if (options.PushUsername is not null)
        {
            arguments.Add($"--Origin:Push:Username={options.PushUsername}");
        }

        if (options.PushPassword is not null)
        {
            arguments.Add($"--Origin:Push:Password={options.PushPassword}");
        }

        if (options.HtpasswdFile is not null)
        {
            arguments.Add($"--Origin:Push:HtpasswdFile={options.HtpasswdFile}");
        }

        foreach (var (user, prefixes) in options.PushUsers)
        {
            for (var i = 0; i < prefixes.Length; i++)
            {
                arguments.Add($"--Origin:Push:Users:{user}:Prefixes:{i}={prefixes[i]}");
            }
        }

        for (var i = 0; i < options.RegistryNames.Count; i++)
        {
            arguments.Add($"--Origin:RegistryNames:{i}={options.RegistryNames[i]}");
        }

        var allowAnonymous = options.AllowAnonymousPush ?? !options.HasPushCredentials;
        arguments.Add($"--Origin:Push:AllowAnonymous={(allowAnonymous ? "true" : "false")}");

        arguments.AddRange(options.ExtraArguments);
        var probe = new Uri($"http://127.0.0.1:{port}{options.ReadinessPath}");
        var managed = new ManagedProcessOptions("dotnet", arguments)
        {
            Name = "origin",
            OnOutputLine = options.OnOutputLine,
            ReadyTimeout = options.ReadyTimeout,
            // With push credentials the origin may challenge every client on /v2/ (skopeo only sends
            // credentials after a challenge there), so 401 also means "up".
            Readiness = allowAnonymous || !options.HasPushCredentials
                ? Readiness.HttpOk(probe)
                : Readiness.HttpStatus(probe, HttpStatusCode.OK, HttpStatusCode.Unauthorized),
        };
        managed.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        managed.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        return ManagedProcess.StartAsync(managed, cancellationToken);
    }
}

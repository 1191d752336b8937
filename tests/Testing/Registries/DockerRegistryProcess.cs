using System.Text;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Networking;
using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Registries;

/// <summary>CNCF distribution (<c>docker-registry serve config.yml</c>): the reference registry, and a baseline mirror.</summary>
public sealed class DockerRegistryProcess : IRegistryProcess
{
    private readonly TempDirectory _directory;
    private readonly ManagedProcess _process;

    private DockerRegistryProcess(TempDirectory directory, int port, string storagePath, ManagedProcess process)
    {
        _directory = directory;
        Port = port;
        StoragePath = storagePath;
        _process = process;
    }

    public string Kind => "docker-registry";

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public string StoragePath { get; }

    public ManagedProcess Process => _process;

    public static async Task<DockerRegistryProcess> StartAsync(DockerRegistryOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new DockerRegistryOptions();
        var directory = new TempDirectory("dreg");
        try
        {
            var port = options.Port == 0 ? FreePort.Next() : options.Port;
            var storage = options.StoragePath ?? directory.CreateSubdirectory("storage");
            var config = directory.Combine("config.yml");
            await File.WriteAllTextAsync(config, ConfigYaml(port, storage, options.ProxyRemoteUrl), cancellationToken).ConfigureAwait(false);
            var managed = new ManagedProcessOptions("docker-registry", ["serve", config])
            {
                Name = "docker-registry",
                OnOutputLine = options.OnOutputLine,
                ReadyTimeout = options.ReadyTimeout,
                Readiness = Readiness.HttpOk(new Uri($"http://127.0.0.1:{port}/v2/")),
            };
            var process = await ManagedProcess.StartAsync(managed, cancellationToken).ConfigureAwait(false);
            return new DockerRegistryProcess(directory, port, storage, process);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    public void Kill() => _process.Kill();

    public string Describe() => _process.Describe();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _directory.Dispose();
        }
    }

    private static string ConfigYaml(int port, string storage, Uri? proxy)
    {
        // JSON-style flow mappings are valid YAML and need no indentation care.
        var yaml = new StringBuilder()
            .AppendLine("version: 0.1")
            .AppendLine("log: {level: info, accesslog: {disabled: false}}")
            .AppendLine($"storage: {{filesystem: {{rootdirectory: \"{storage}\"}}, delete: {{enabled: true}}}}")
            .AppendLine($"http: {{addr: \"127.0.0.1:{port}\"}}");
        if (proxy is not null)
        {
            yaml.AppendLine($"proxy: {{remoteurl: \"{proxy.ToString().TrimEnd('/')}\"}}");
        }

        return yaml.ToString();
    }
}

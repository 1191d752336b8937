using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Networking;
using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Registries;

/// <summary>CNCF distribution (<c>docker-registry serve config.yml</c>): the reference registry, and a baseline mirror.</summary>
public sealed partial class DockerRegistryProcess : IRegistryProcess
{
    private readonly TempDirectory _directory;
    private readonly ManagedProcess _process;
    private readonly ConcurrentQueue<string> _lines;

    private DockerRegistryProcess(TempDirectory directory, int port, string storagePath, ManagedProcess process, ConcurrentQueue<string> lines)
    {
        _directory = directory;
        Port = port;
        StoragePath = storagePath;
        _process = process;
        _lines = lines;
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
            await File.WriteAllTextAsync(config, ConfigYaml(port, storage, options.ProxyRemoteUrl) + options.AuthYaml, cancellationToken).ConfigureAwait(false);
            // Every line is kept (the process keeps only the latest): the access log is how tests count requests.
            var lines = new ConcurrentQueue<string>();
            var managed = new ManagedProcessOptions("docker-registry", ["serve", config])
            {
                Name = "docker-registry",
                OnOutputLine = line =>
                {
                    lines.Enqueue(line);
                    options.OnOutputLine?.Invoke(line);
                },
                ReadyTimeout = options.ReadyTimeout,
                // With token auth /v2/ answers 401: that is up too.
                Readiness = options.AuthYaml is null
                    ? Readiness.HttpOk(new Uri($"http://127.0.0.1:{port}/v2/"))
                    : Readiness.HttpStatus(new Uri($"http://127.0.0.1:{port}/v2/"), System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.Unauthorized),
            };
            var process = await ManagedProcess.StartAsync(managed, cancellationToken).ConfigureAwait(false);
            return new DockerRegistryProcess(directory, port, storage, process, lines);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    public void Kill() => _process.Kill();

    /// <summary>
    /// The requests in its access log so far (combined log format:
    /// <c>127.0.0.1 - - [date] "GET /v2/x/blobs/sha256:… HTTP/1.1" 200 1234 "" "agent"</c>), in order.
    /// </summary>
    public IReadOnlyList<AccessLogEntry> AccessLog() => _lines
        .Select(line => AccessLogLine().Match(line))
        .Where(match => match.Success)
        .Select(match => new AccessLogEntry(match.Groups["method"].Value, match.Groups["target"].Value, int.Parse(match.Groups["status"].Value, System.Globalization.CultureInfo.InvariantCulture)))
        .ToList();

    /// <summary>How many <paramref name="method"/> requests for exactly the path <paramref name="path"/> (query ignored) were answered with <paramref name="status"/> (any when null).</summary>
    public int CountRequests(string method, string path, int? status = null) => AccessLog().Count(entry =>
        entry.Method == method && entry.Path == path && (status is null || entry.Status == status));

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

    [GeneratedRegex("\"(?<method>[A-Z]+) (?<target>\\S+) HTTP/[0-9.]+\" (?<status>[0-9]{3}) ")]
    private static partial Regex AccessLogLine();

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

/// <summary>One request in docker-registry's access log.</summary>
public sealed record AccessLogEntry(string Method, string Target, int Status)
{
    public string Path => Target.Split('?')[0];
}

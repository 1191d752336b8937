using System.Globalization;
using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Systems;

/// <summary>
/// The central registry: docker-registry on the seed host holds the blob (pushed with POST + monolithic PUT), and
/// every client GETs it with curl at once. The baseline that P2P distribution has to beat.
/// </summary>
internal sealed class RegistrySystem : ISystemUnderTest
{
    private const string Repository = "harness/blob";
    private ProcessGroup.Tracked? _registry;
    private string _baseUrl = "";

    public string Name => "registry";

    /// <summary>docker-registry's base URL on the seed host, once <see cref="SetupAsync"/> ran.</summary>
    public string BaseUrl => _baseUrl;

    public string Description => "docker-registry on the seed host; each client: curl GET /v2/<repo>/blobs/<digest>";

    public async Task<Availability> CheckAvailableAsync(CancellationToken cancellationToken) =>
        await Tools.MissingAsync(["docker-registry", "curl"], cancellationToken).ConfigureAwait(false) is { } missing
            ? Availability.No(missing)
            : Availability.Yes;

    public async Task SetupAsync(SystemContext context, CancellationToken cancellationToken)
    {
        var seed = context.Seed;
        var port = context.Testbed.Port(seed, 5000);
        _baseUrl = $"http://{seed.Address}:{port}";
        var config = Path.Combine(context.WorkDirectory, "registry.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log: {"{"}level: error, accesslog: {"{"}disabled: true{"}"}{"}"}
            storage: {"{"}filesystem: {"{"}rootdirectory: {Path.Combine(context.WorkDirectory, "registry")}{"}"}{"}"}
            http: {"{"}addr: "{seed.Address}:{port}"{"}"}
            """);
        _registry = context.Processes.Start("docker-registry", seed, ["docker-registry", "serve", config], Path.Combine(context.WorkDirectory, "registry.log"));
        await ServerProbe.WaitForHttpAsync(seed, _baseUrl + "/v2/", TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);

        // Pushed from the seed host itself: the upload stays off the shaped link and out of the egress count.
        await BlobPush.PushAsync(seed, _baseUrl, Repository, context.Blob, cancellationToken).ConfigureAwait(false);
        context.Log.WriteLine($"    pushed {context.Blob.Digest} to docker-registry at {_baseUrl}");
    }

    public async Task<IReadOnlyList<ClientResult>> FetchAtOnceAsync(SystemContext context, CancellationToken cancellationToken)
    {
        var url = $"{_baseUrl}/v2/{Repository}/blobs/{context.Blob.Digest}";
        var clients = context.Clients.Select(host =>
        {
            var output = Path.Combine(context.WorkDirectory, host.Name + ".blob");
            List<string> command = ["curl", "-fsS", "-o", output];
            if (context.Testbed.ProgramRateLimit is { } limit)
            {
                command.AddRange(["--limit-rate", limit.ToString(CultureInfo.InvariantCulture)]);
            }

            command.Add(url);
            return new ClientFleet.Client(host, command, output, Path.Combine(context.WorkDirectory, host.Name + ".done"));
        }).ToList();
        var outcome = await ClientFleet.RunAsync(context, clients, ClientFleet.Completion.Exits, cancellationToken).ConfigureAwait(false);
        return outcome.Results;
    }

    public Task<ServerFigures> CollectAsync(SystemContext context, CancellationToken cancellationToken)
    {
        // Every byte of every blob came from the one server: N full copies.
        var served = context.Clients.Select(h => Path.Combine(context.WorkDirectory, h.Name + ".blob"))
            .Where(File.Exists).Sum(p => new FileInfo(p).Length);
        return Task.FromResult(new ServerFigures(_registry is null ? null : ProcessCpu.ReadSeconds(_registry.Pid), served));
    }

    public async Task TeardownAsync(SystemContext context)
    {
        await context.Processes.StopAllAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        _registry = null;
    }
}

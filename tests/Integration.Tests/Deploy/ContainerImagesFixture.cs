using System.Diagnostics;
using System.Text.Json.Nodes;

namespace P2PRegistry.Integration.Tests.Deploy;

/// <summary>
/// Builds the three images once for the collection, the way a user does, without a Docker engine:
/// <c>deploy/docker/publish.sh</c> into a context laid out like the repository's (<c>artifacts/publish/…</c>), then
/// <c>buildah bud</c> of <c>deploy/docker/Dockerfile</c> for each target, on a Debian base made with debootstrap
/// (standing in for .NET's runtime-deps image, which cannot be pulled here). The images are pushed to an origin of
/// ours (a process), and a private containerd pulls them from it, ready for <c>ctr run</c>.
/// </summary>
public sealed class ContainerImagesFixture : IAsyncLifetime
{
    public const string BaseImage = "localhost/p2pregistry-test/debian-base:bookworm";

    private static readonly string[] Components = ["origin", "tracker", "agent"];
    private readonly TempDirectory _context = new("img-ctx");
    private readonly Dictionary<string, ComponentImage> _images = [];
    private Buildah? _buildah;
    private OriginProcess? _registry;
    private ContainerdProcess? _containerd;

    public TestOutputSink Output { get; } = new();

    public string Dockerfile => Path.Combine(RepositoryPaths.Root, "deploy", "docker", "Dockerfile");

    public Buildah Buildah => _buildah ?? throw new InvalidOperationException("not initialised");

    public ContainerdProcess Containerd => _containerd ?? throw new InvalidOperationException("not initialised");

    /// <summary>Where <c>deploy/docker/publish.sh</c> wrote the components (<c>&lt;component&gt;/</c> each), as the images copy them.</summary>
    public string PublishPath => _context.Combine("artifacts", "publish");

    /// <summary>What happened while building, with times, for the tests to print.</summary>
    public List<string> BuildLog { get; } = [];

    public ComponentImage this[string component] => _images[component];

    public async Task InitializeAsync()
    {
        var total = Stopwatch.StartNew();
        await StepAsync("publish (deploy/docker/publish.sh)", () => ProcessRunner.RunOrThrowAsync(
            Path.Combine(RepositoryPaths.Root, "deploy", "docker", "publish.sh"),
            [PublishPath],
            // The agent's Native AOT compile and link alone took 2-6 minutes on two loaded cores.
            TimeSpan.FromMinutes(25)));

        _buildah = new Buildah();
        await StepAsync("base image (debootstrap, cached under " + DebianBaseImage.CacheRoot + ")", () => DebianBaseImage.ImportAsync(_buildah, BaseImage));
        foreach (var component in Components)
        {
            await StepAsync($"buildah bud --target {component}", () => _buildah.BuildAsync(
                Dockerfile,
                _context.Path,
                LocalTag(component),
                component,
                new Dictionary<string, string> { ["BASE_IMAGE"] = BaseImage }));
        }

        _registry = await OriginProcess.StartAsync();
        _containerd = await ContainerdProcess.StartAsync(Output.WriteLine);
        foreach (var component in Components)
        {
            var reference = $"{_registry.Host}/p2pregistry/{component}:test";
            await StepAsync($"buildah push {component}", () => _buildah.PushAsync(LocalTag(component), reference));
            await StepAsync($"ctr pull {component}", () => _containerd.CtrOrThrowAsync(["images", "pull", "--plain-http", reference], TimeSpan.FromMinutes(5)));
            var inspect = await _buildah.InspectAsync(LocalTag(component));
            var manifest = JsonNode.Parse(await Skopeo.InspectRawAsync("docker://" + reference))!;
            var layers = manifest["layers"]!.AsArray().Select(l => l!["size"]!.GetValue<long>()).ToList();
            var images = JsonNode.Parse((await _buildah.RunOrThrowAsync(["images", "--json", LocalTag(component)])).StandardOutput)!.AsArray();
            _images[component] = new ComponentImage(
                component,
                reference,
                inspect["Docker"]!["config"]!,
                UncompressedSize: images[0]!["size"]!.GetValue<string>(),
                CompressedBytes: layers.Sum() + manifest["config"]!["size"]!.GetValue<long>(),
                AppLayerCompressedBytes: layers[^1]);
        }

        BuildLog.Add($"total {total.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Runs the component's image under containerd with <paramref name="environment"/>, on the host network or in a network namespace of its own.</summary>
    public Task<CtrContainer> RunAsync(string component, IReadOnlyDictionary<string, string> environment, Readiness readiness, bool hostNetwork = true) =>
        CtrContainer.RunAsync(Containerd, this[component].Reference, environment, readiness, TimeSpan.FromMinutes(2), Output.WriteLine, hostNetwork);

    public async Task DisposeAsync()
    {
        if (_containerd is not null)
        {
            await _containerd.DisposeAsync();
        }

        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        if (_buildah is not null)
        {
            await _buildah.DisposeAsync();
        }

        _context.Dispose();
    }

    private static string LocalTag(string component) => $"localhost/p2pregistry/{component}:test";

    private async Task StepAsync(string name, Func<Task> step)
    {
        var stopwatch = Stopwatch.StartNew();
        await step();
        BuildLog.Add($"{name}: {stopwatch.Elapsed.TotalSeconds:F1} s");
    }
}

/// <summary>A built image as the tests see it: where containerd has it, its Dockerfile settings, its sizes.</summary>
public sealed record ComponentImage(string Component, string Reference, JsonNode Config, string UncompressedSize, long CompressedBytes, long AppLayerCompressedBytes);

[CollectionDefinition(Name)]
public sealed class ContainerImagesCollection : ICollectionFixture<ContainerImagesFixture>
{
    public const string Name = "container images";
}

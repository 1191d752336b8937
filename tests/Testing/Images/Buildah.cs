using System.Text.Json.Nodes;
using P2PRegistry.Testing.Containerd;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Images;

/// <summary>
/// buildah with a private image store (vfs driver: no daemon, no overlay mounts, works as root anywhere) under a temp
/// directory, so a test's images never meet the machine's or another test's. Dispose deletes the store.
/// </summary>
public sealed class Buildah : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);
    private readonly TempDirectory _directory;

    public Buildah()
    {
        _directory = new TempDirectory("buildah");
    }

    public string Root => _directory.Combine("root");

    /// <summary>Runs <c>buildah --storage-driver vfs --root … --runroot … args…</c>; a non-zero exit throws with both outputs.</summary>
    public Task<ProcessResult> RunOrThrowAsync(IEnumerable<string> arguments, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ProcessRunner.RunOrThrowAsync(
            "buildah",
            ["--storage-driver", "vfs", "--root", Root, "--runroot", _directory.Combine("run"), .. arguments],
            timeout ?? DefaultTimeout,
            cancellationToken);

    /// <summary>
    /// <c>buildah bud</c> of <paramref name="dockerfile"/> in <paramref name="context"/>, in Docker's image format (the OCI
    /// format has no HEALTHCHECK), reusing the layers of stages built before (<c>--layers</c>), as <c>docker build</c> does.
    /// </summary>
    public Task<ProcessResult> BuildAsync(
        string dockerfile,
        string context,
        string tag,
        string? target = null,
        IReadOnlyDictionary<string, string>? buildArguments = null,
        CancellationToken cancellationToken = default)
    {
        List<string> arguments = ["bud", "--format", "docker", "--layers", "--pull=never", "-f", dockerfile, "-t", tag];
        if (target is not null)
        {
            arguments.AddRange(["--target", target]);
        }

        foreach (var (key, value) in buildArguments ?? new Dictionary<string, string>())
        {
            arguments.AddRange(["--build-arg", $"{key}={value}"]);
        }

        arguments.Add(context);
        return RunOrThrowAsync(arguments, cancellationToken: cancellationToken);
    }

    /// <summary>Pushes a local image to a plain-HTTP registry (<c>host:port/name:tag</c>), Docker schema 2 as built.</summary>
    public Task<ProcessResult> PushAsync(string image, string destination, CancellationToken cancellationToken = default) =>
        RunOrThrowAsync(["push", "--tls-verify=false", image, "docker://" + destination], cancellationToken: cancellationToken);

    /// <summary><c>buildah inspect --type image</c>: the image as buildah describes it (<c>Docker.config</c> holds the Dockerfile's settings).</summary>
    public async Task<JsonNode> InspectAsync(string image, CancellationToken cancellationToken = default)
    {
        var result = await RunOrThrowAsync(["inspect", "--type", "image", image], TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
        return JsonNode.Parse(result.StandardOutput) ?? throw new InvalidOperationException($"buildah inspect {image} printed no JSON");
    }

    public async ValueTask DisposeAsync()
    {
        // vfs mounts nothing, but a RUN step's runtime may leave a bind mount behind if the build was killed.
        await ContainerdProcess.UnmountUnderAsync(_directory.Path).ConfigureAwait(false);
        _directory.Dispose();
    }
}

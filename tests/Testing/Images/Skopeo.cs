using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Testing.Images;

/// <summary>
/// Runs skopeo 1.9.3 against registries on 127.0.0.1 over plain HTTP. Credentials are only ever the ones given:
/// without them skopeo is told to be anonymous, so ambient auth files cannot change a test's outcome.
/// </summary>
public static class Skopeo
{
    /// <summary><c>docker://&lt;host&gt;/&lt;repository&gt;:&lt;tag&gt;</c> (host as <c>127.0.0.1:port</c>).</summary>
    public static string Docker(string host, string repository, string tag) => $"docker://{host}/{repository}:{tag}";

    /// <summary><c>docker://&lt;host&gt;/&lt;repository&gt;@&lt;digest&gt;</c>.</summary>
    public static string DockerByDigest(string host, string repository, string digest) => $"docker://{host}/{repository}@{digest}";

    /// <summary><c>dir:&lt;path&gt;</c>.</summary>
    public static string Dir(string path) => $"dir:{path}";

    /// <summary>The argument list of <c>skopeo copy</c> for these options (exposed so failures can be reproduced by hand).</summary>
    public static List<string> CopyArguments(string source, string destination, SkopeoCopyOptions? options = null)
    {
        options ??= new SkopeoCopyOptions();
        var arguments = new List<string> { "--insecure-policy", "copy" };
        if (source.StartsWith("docker://", StringComparison.Ordinal))
        {
            arguments.Add("--src-tls-verify=false");
            arguments.Add(options.SourceCredentials is null ? "--src-no-creds" : $"--src-creds={options.SourceCredentials}");
        }

        if (destination.StartsWith("docker://", StringComparison.Ordinal))
        {
            arguments.Add("--dest-tls-verify=false");
            arguments.Add(options.DestinationCredentials is null ? "--dest-no-creds" : $"--dest-creds={options.DestinationCredentials}");
        }

        if (options.Format is not null)
        {
            arguments.Add($"--format={options.Format}");
        }

        if (options.All)
        {
            arguments.Add("--all");
        }

        if (options.PreserveDigests)
        {
            arguments.Add("--preserve-digests");
        }

        if (options.DigestFile is not null)
        {
            arguments.Add($"--digestfile={options.DigestFile}");
        }

        arguments.Add(source);
        arguments.Add(destination);
        return arguments;
    }

    /// <summary>Runs <c>skopeo copy</c> and returns the result whatever the exit code.</summary>
    public static Task<ProcessResult> CopyAsync(string source, string destination, SkopeoCopyOptions? options = null, CancellationToken cancellationToken = default) =>
        ProcessRunner.RunAsync("skopeo", CopyArguments(source, destination, options), options?.Timeout ?? TimeSpan.FromMinutes(3), cancellationToken);

    /// <summary>Runs <c>skopeo copy</c>; a failure throws with the command line and both outputs.</summary>
    public static Task<ProcessResult> CopyOrThrowAsync(string source, string destination, SkopeoCopyOptions? options = null, CancellationToken cancellationToken = default) =>
        ProcessRunner.RunOrThrowAsync("skopeo", CopyArguments(source, destination, options), options?.Timeout ?? TimeSpan.FromMinutes(3), cancellationToken);

    /// <summary>Pushes and returns the manifest digest skopeo reports having written (<c>--digestfile</c>).</summary>
    public static async Task<string> PushAsync(string source, string destination, SkopeoCopyOptions? options = null, CancellationToken cancellationToken = default)
    {
        var digestFile = Path.Combine(Path.GetTempPath(), $"skopeo-digest-{Guid.NewGuid():N}");
        try
        {
            var withDigest = new SkopeoCopyOptions
            {
                Format = options?.Format,
                All = options?.All ?? false,
                PreserveDigests = options?.PreserveDigests ?? false,
                SourceCredentials = options?.SourceCredentials,
                DestinationCredentials = options?.DestinationCredentials,
                Timeout = options?.Timeout ?? TimeSpan.FromMinutes(3),
                DigestFile = digestFile,
            };
            await CopyOrThrowAsync(source, destination, withDigest, cancellationToken).ConfigureAwait(false);
            return (await File.ReadAllTextAsync(digestFile, cancellationToken).ConfigureAwait(false)).Trim();
        }
        finally
        {
            File.Delete(digestFile);
        }
    }

    /// <summary><c>skopeo list-tags</c>: the tags of a <c>docker://host/repository</c>, as the registry lists them.</summary>
    public static async Task<IReadOnlyList<string>> ListTagsAsync(string repositoryReference, CancellationToken cancellationToken = default)
    {
        List<string> arguments = ["--insecure-policy", "list-tags", "--tls-verify=false", "--no-creds", repositoryReference];
        var result = await ProcessRunner.RunOrThrowAsync("skopeo", arguments, TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
        var json = System.Text.Json.Nodes.JsonNode.Parse(result.StandardOutput)
            ?? throw new ProcessFailedException("skopeo list-tags printed no JSON", result);
        return json["Tags"]?.AsArray().Select(t => t!.GetValue<string>()).ToList() ?? [];
    }

    /// <summary><c>skopeo delete</c>: deletes the manifest a <c>docker://</c> reference resolves to.</summary>
    public static Task<ProcessResult> DeleteAsync(string reference, SkopeoCredentials? credentials = null, CancellationToken cancellationToken = default)
    {
        List<string> arguments = ["--insecure-policy", "delete", "--tls-verify=false", credentials is null ? "--no-creds" : $"--creds={credentials}", reference];
        return ProcessRunner.RunAsync("skopeo", arguments, TimeSpan.FromMinutes(1), cancellationToken);
    }

    /// <summary><c>skopeo inspect --raw</c>: the manifest bytes exactly as the registry serves them.</summary>
    public static async Task<string> InspectRawAsync(string reference, SkopeoCredentials? credentials = null, CancellationToken cancellationToken = default)
    {
        List<string> arguments = ["--insecure-policy", "inspect", "--raw", "--tls-verify=false", credentials is null ? "--no-creds" : $"--creds={credentials}", reference];
        var result = await ProcessRunner.RunOrThrowAsync("skopeo", arguments, TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
        return result.StandardOutput;
    }
}

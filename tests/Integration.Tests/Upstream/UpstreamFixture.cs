namespace P2PRegistry.Integration.Tests.Upstream;

/// <summary>
/// An upstream that behaves like Docker Hub: a real docker-registry with <c>auth: token</c> and our token issuer
/// (credentials alice/s3cret), holding a two-layer image as <c>team/app:v1</c> and <c>team/other:v1</c>, pushed by skopeo.
/// </summary>
public sealed class UpstreamFixture : IAsyncLifetime
{
    public const string Username = "alice";
    public const string Password = "s3cret";
    public const string Service = "upstream-test";

    /// <summary>The registry name the origin knows this upstream by (what clients send as <c>ns</c>).</summary>
    public const string Name = "registry.example.com:5000";

    private readonly TempDirectory _directory = new("upstream");
    private TokenIssuer? _issuer;
    private DockerRegistryProcess? _registry;

    public TestOutputSink Output { get; } = new();

    public TokenIssuer Issuer => _issuer ?? throw new InvalidOperationException("Not started.");

    public DockerRegistryProcess Registry => _registry ?? throw new InvalidOperationException("Not started.");

    public OciImage Image { get; private set; } = null!;

    public string ManifestDigest { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _issuer = new TokenIssuer(_directory.Path, Username, Password);
        _registry = await StartRegistryAsync();
        // Two layers: busybox and 4 MiB of random bytes.
        Image = await OciImageBuilder.BuildAsync(_directory.Combine("layout"), "v1", randomMiB: 4, seed: 21);
        var credentials = new SkopeoCredentials(Username, Password);
        ManifestDigest = await Skopeo.PushAsync(Image.Reference, Skopeo.Docker(Registry.Host, "team/app", "v1"), new SkopeoCopyOptions { PreserveDigests = true, DestinationCredentials = credentials });
        await Skopeo.PushAsync(Image.Reference, Skopeo.Docker(Registry.Host, "team/other", "v1"), new SkopeoCopyOptions { PreserveDigests = true, DestinationCredentials = credentials });
    }

    /// <summary>Another docker-registry over the same storage and issuer (one a test may stop without disturbing others).</summary>
    public Task<DockerRegistryProcess> StartRegistryAsync(string? storagePath = null) =>
        DockerRegistryProcess.StartAsync(new DockerRegistryOptions
        {
            StoragePath = storagePath,
            AuthYaml = Issuer.RegistryAuthYaml(Service),
            OnOutputLine = Output.WriteLine,
        });

    /// <summary>Origin arguments that make <paramref name="url"/> the upstream <see cref="Name"/>.</summary>
    public static List<string> OriginArguments(Uri url, string password = Password, params string[] more) =>
    [
        $"--Origin:Upstreams:0:Name={Name}",
        $"--Origin:Upstreams:0:Url={url}",
        "--Origin:Upstreams:0:AllowHttp=true",
        $"--Origin:Upstreams:0:Username={Username}",
        $"--Origin:Upstreams:0:Password={password}",
        .. more,
    ];

    public async Task DisposeAsync()
    {
        try
        {
            if (_registry is not null)
            {
                await _registry.DisposeAsync();
            }
        }
        finally
        {
            if (_issuer is not null)
            {
                await _issuer.DisposeAsync();
            }

            _directory.Dispose();
        }
    }
}

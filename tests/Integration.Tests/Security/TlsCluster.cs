using P2PRegistry.Testing.Security;

namespace P2PRegistry.Integration.Tests.Security;

/// <summary>How a <see cref="TlsCluster"/> is set up.</summary>
internal sealed record TlsClusterOptions
{
    /// <summary>Origin and tracker (and the agents' registry APIs) refuse clients without a certificate from the test CA.</summary>
    public bool MutualTls { get; init; }

    /// <summary>TLS on the peer ports (<c>Swarm:Tls</c>) of the origin and the agents.</summary>
    public bool PeerTls { get; init; }

    public int Agents { get; init; } = 1;

    /// <summary>
    /// Every certificate from an intermediate CA under the test root: the certificate files hold leaf + intermediate (as
    /// cert-manager's <c>tls.crt</c>), <c>CaPath</c> the root alone. <c>ClientCaPath</c> holds root + intermediate: our
    /// HTTP and gRPC clients present their certificate without its intermediates (docs/operations.md, TLS).
    /// </summary>
    public bool Intermediate { get; init; }

    /// <summary>Push users from this htpasswd file (with <see cref="PushUsers"/>) instead of anonymous push.</summary>
    public string? HtpasswdFile { get; init; }

    /// <summary>User → repository prefixes (<c>Origin:Push:Users</c>), with <see cref="HtpasswdFile"/>.</summary>
    public IReadOnlyDictionary<string, string[]> PushUsers { get; init; } = new Dictionary<string, string[]>();
}

/// <summary>
/// Origin, tracker and agents as processes, every listener https with certificates from one <see cref="TestCertificateAuthority"/>
/// and every client verifying against its <c>ca.crt</c>: origin (role origin), tracker (no role), agents (role agent).
/// Certificates and CA bundles are checked for a change every second.
/// </summary>
internal sealed class TlsCluster : IAsyncDisposable
{
    /// <summary>The name clients pull the origin's pushed images by (<c>Origin:RegistryNames</c>); it resolves nowhere, so containerd only reaches it through an agent.</summary>
    public const string RegistryName = "origin.invalid:5000";

    private readonly List<IAsyncDisposable> _owned = [];

    private TlsCluster(TestCertificateAuthority authority, TlsClusterOptions options)
    {
        Authority = authority;
        Options = options;
        Issuer = options.Intermediate ? authority.CreateIntermediate() : authority;
        OriginCertificate = Issuer.Issue("origin", TestCertificateAuthority.OriginRole);
        TrackerCertificate = Issuer.Issue("tracker");
        AgentCertificate = Issuer.Issue("agent", TestCertificateAuthority.AgentRole);
        if (options.Intermediate)
        {
            ClientCaPath = Path.Combine(Issuer.Directory, "clients-ca.crt");
            File.WriteAllText(ClientCaPath, File.ReadAllText(authority.CaPath) + Issuer.Root.ExportCertificatePem() + "\n");
        }
    }

    /// <summary>The bundle client certificates are checked against when it is not <c>CaPath</c> (with <see cref="TlsClusterOptions.Intermediate"/>).</summary>
    public string? ClientCaPath { get; }

    /// <summary>The root: its <c>ca.crt</c> is every component's CA bundle.</summary>
    public TestCertificateAuthority Authority { get; }

    /// <summary>The CA that signed the components' certificates: <see cref="Authority"/>, or an intermediate under it.</summary>
    public TestCertificateAuthority Issuer { get; }

    public TlsClusterOptions Options { get; }

    public TestCertificate OriginCertificate { get; }

    public TestCertificate TrackerCertificate { get; }

    public TestCertificate AgentCertificate { get; }

    public ManagedProcess Origin { get; private set; } = null!;

    public int OriginPort { get; private set; }

    public string OriginHost => $"127.0.0.1:{OriginPort}";

    public Uri OriginUrl => new($"https://127.0.0.1:{OriginPort}");

    public ManagedProcess Tracker { get; private set; } = null!;

    public Uri TrackerGrpcUrl { get; private set; } = null!;

    public List<(ManagedProcess Process, int Port, Uri Url, int PeerPort)> AgentProcesses { get; } = [];

    public static async Task<TlsCluster> StartAsync(TestCertificateAuthority authority, TlsClusterOptions options, Func<string, Action<string>> log)
    {
        var cluster = new TlsCluster(authority, options);
        try
        {
            await cluster.StartOriginAsync(log("origin"));
            await cluster.StartTrackerAsync(log("tracker"));
            for (var i = 0; i < options.Agents; i++)
            {
                await cluster.StartAgentAsync($"agent-{i}", log($"agent-{i}"));
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>An HttpClient trusting the test CA, with the agent's certificate as client certificate under mutual TLS.</summary>
    public HttpClient Client(TestCertificate? clientCertificate = null) =>
        Authority.CreateHttpClient(clientCertificate ?? (Options.MutualTls ? AgentCertificate : null));

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        if (!ReferenceEquals(Issuer, Authority))
        {
            Issuer.Dispose();
        }
    }

    private async Task StartOriginAsync(Action<string> log)
    {
        var storage = new TempDirectory("origin-tls");
        _owned.Add(new DisposableDirectory(storage));
        OriginPort = FreePort.Next();
        List<string> arguments =
        [
            RepositoryPaths.ProjectDll("Origin", "P2PRegistry.Origin"),
            "--urls", $"https://127.0.0.1:{OriginPort}",
            $"--Origin:StoragePath={storage.Path}",
            "--Origin:Peer:Port=0",
            $"--Origin:RegistryNames:0={RegistryName}",
            .. Tls("Origin", OriginCertificate, server: true),
        ];
        if (Options.HtpasswdFile is null)
        {
            // Anonymous push may be turned off by default: these tests are about the transport, not about who may push.
            arguments.Add("--Origin:Push:AllowAnonymous=true");
        }
        else
        {
            arguments.Add($"--Origin:Push:HtpasswdFile={Options.HtpasswdFile}");
            foreach (var (user, prefixes) in Options.PushUsers)
            {
                arguments.AddRange(prefixes.Select((prefix, i) => $"--Origin:Push:Users:{user}:Prefixes:{i}={prefix}"));
            }
        }

        if (Options.PeerTls)
        {
            arguments.AddRange(PeerTls(OriginCertificate));
        }

        Origin = await StartAsync("origin", arguments, new Uri(OriginUrl, "/healthz"), log);
    }

    private async Task StartTrackerAsync(Action<string> log)
    {
        var grpcPort = FreePort.Next();
        var httpPort = FreePort.Next();
        TrackerGrpcUrl = new Uri($"https://127.0.0.1:{grpcPort}");
        List<string> arguments =
        [
            RepositoryPaths.ProjectDll("Tracker", "P2PRegistry.Tracker"),
            $"--Tracker:GrpcUrl=https://127.0.0.1:{grpcPort}",
            $"--Tracker:HttpUrl=https://127.0.0.1:{httpPort}",
            $"--Tracker:OriginUrl={OriginUrl.GetLeftPart(UriPartial.Authority)}",
            "--Tracker:DownloadingInterval=00:00:01",
            .. Tls("Tracker", TrackerCertificate, server: true),
        ];
        Tracker = await StartAsync("tracker", arguments, new Uri($"https://127.0.0.1:{httpPort}/healthz"), log);
    }

    private async Task StartAgentAsync(string name, Action<string> log)
    {
        var data = new TempDirectory(name);
        _owned.Add(new DisposableDirectory(data));
        var port = FreePort.Next();
        var peerPort = FreePort.Next();
        var url = new Uri($"https://127.0.0.1:{port}");
        List<string> arguments =
        [
            RepositoryPaths.ProjectDll("Agent", "P2PRegistry.Agent"),
            $"--Agent:RegistryUrl=https://127.0.0.1:{port}",
            $"--Agent:PeerPort={peerPort}",
            $"--Agent:TrackerUrl={TrackerGrpcUrl.GetLeftPart(UriPartial.Authority)}",
            $"--Agent:OriginUrl={OriginUrl.GetLeftPart(UriPartial.Authority)}",
            $"--Agent:DataPath={data.Path}",
            "--Agent:MissTimeout=00:00:10",
            "--Swarm:DownloadAnnounceInterval=00:00:01",
            .. Tls("Agent", AgentCertificate, server: true),
        ];
        if (Options.PeerTls)
        {
            arguments.AddRange(PeerTls(AgentCertificate));
        }

        AgentProcesses.Add((await StartAsync(name, arguments, new Uri(url, "/readyz"), log), port, url, peerPort));
    }

    /// <summary>The component's certificate serves its listeners and, under mutual TLS, is its client certificate too.</summary>
    private List<string> Tls(string component, TestCertificate certificate, bool server)
    {
        var prefix = $"--{component}:Tls:";
        List<string> arguments =
        [
            $"{prefix}CaPath={Authority.CaPath}",
            $"{prefix}ClientCertificatePath={certificate.CertificatePath}",
            $"{prefix}ClientKeyPath={certificate.KeyPath}",
            $"{prefix}ReloadInterval=00:00:01",
        ];
        if (server)
        {
            arguments.Add($"{prefix}CertificatePath={certificate.CertificatePath}");
            arguments.Add($"{prefix}KeyPath={certificate.KeyPath}");
        }

        if (Options.MutualTls)
        {
            arguments.Add($"{prefix}RequireClientCertificate=true");
        }

        if (ClientCaPath is not null)
        {
            arguments.Add($"{prefix}ClientCaPath={ClientCaPath}");
        }

        return arguments;
    }

    private List<string> PeerTls(TestCertificate certificate) =>
    [
        $"--Swarm:Tls:CertificatePath={certificate.CertificatePath}",
        $"--Swarm:Tls:KeyPath={certificate.KeyPath}",
        $"--Swarm:Tls:CaPath={Authority.CaPath}",
    ];

    private async Task<ManagedProcess> StartAsync(string name, List<string> arguments, Uri readiness, Action<string> log)
    {
        // The probe presents a certificate under mutual TLS (the agent's: any from the CA will do).
        var probe = Client();
        _owned.Add(new DisposableClient(probe));
        var options = new ManagedProcessOptions("dotnet", arguments)
        {
            Name = name,
            OnOutputLine = log,
            Readiness = Readiness.HttpOk(readiness, probe),
        };
        options.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = await ManagedProcess.StartAsync(options);
        _owned.Add(process);
        return process;
    }

    private sealed class DisposableDirectory(TempDirectory directory) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            directory.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class DisposableClient(HttpClient client) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

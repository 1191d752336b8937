using System.Globalization;
using System.Net;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Integration.Tests.Agent;
using P2PRegistry.Integration.Tests.Origin;
using P2PRegistry.Testing.Peers;
using P2PRegistry.Testing.Security;

namespace P2PRegistry.Integration.Tests.Security;

/// <summary>
/// Every listener on TLS with certificates from a test CA, as processes with real clients: skopeo pushes to the origin verifying
/// against <c>ca.crt</c> (never <c>--dest-tls-verify=false</c>), containerd pulls through an agent with hosts.toml <c>ca</c>,
/// the agent reaches tracker (gRPC) and origin over TLS, the tracker reaches the origin's metainfo endpoint over TLS.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TlsTests(ITestOutputHelper output)
{
    private const string UnresolvableRegistry = TlsCluster.RegistryName;

    [Fact]
    public async Task SkopeoPush_VerifiedAgainstTheTestCa_ContainerdPullsThroughTheAgent_AllOverTls()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        using var authority = new TestCertificateAuthority();
        await using var cluster = await TlsCluster.StartAsync(authority, new TlsClusterOptions(), Log);
        using var work = new TempDirectory("tls-push");

        // Without the CA skopeo does not trust the origin: the TLS is real and verification is on.
        var unverified = await SkopeoCopyAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "tls/app", "v1"), certDirectory: null);
        Assert.False(unverified.Succeeded, "skopeo trusted a certificate from an unknown CA: " + unverified.Describe());
        Assert.Contains("certificate", unverified.StandardError, StringComparison.OrdinalIgnoreCase);

        var certs = cluster.AgentCertificate.WriteSkopeoCertDirectory(work.Combine("certs"), authority.CaPath, withClientCertificate: false);
        var pushed = await SkopeoCopyAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "tls/app", "v1"), certs);
        Assert.True(pushed.Succeeded, pushed.Describe());

        await PullThroughAgentAsync(cluster, image, "tls/app:v1", clientCertificate: null);
        await AssertTrackerServesMetaInfoOverTlsAsync(cluster, image.Layers[^1].Digest);
    }

    [Fact]
    public async Task MutualTls_ClientsWithCertificatesWork_ClientsWithoutAreRefused()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        using var authority = new TestCertificateAuthority();
        await using var cluster = await TlsCluster.StartAsync(authority, new TlsClusterOptions { MutualTls = true }, Log);
        using var work = new TempDirectory("mtls-push");

        // No client certificate: the handshake is refused, by the origin, the tracker and the agent alike.
        using var bare = cluster.Authority.CreateHttpClient(clientCertificate: null);
        foreach (var url in new[] { new Uri(cluster.OriginUrl, "/v2/"), new Uri(cluster.AgentProcesses[0].Url, "/v2/") })
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => bare.GetAsync(url));
        }

        using (var channel = Channel(cluster, clientCertificate: null))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => new Contracts.Tracker.Tracker.TrackerClient(channel)
                .GetMetaInfoAsync(new GetMetaInfoRequest { Digest = image.Layers[^1].Digest }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
            // The refusal ends the connection: in the handshake (grpc-dotnet: Internal, "The SSL connection could not be
            // established") or at the first read after a TLS 1.3 handshake the client already saw complete (Unavailable).
            output.WriteLine($"[test] no client certificate: {refused.StatusCode} {refused.Status.Detail}");
            Assert.True(refused.StatusCode is StatusCode.Unavailable or StatusCode.Internal, refused.ToString());
            Assert.IsType<HttpRequestException>(refused.Status.DebugException);
        }

        // A certificate from another CA is refused as well.
        using (var stranger = new TestCertificateAuthority("Stranger CA"))
        {
            var foreign = stranger.Issue("foreign", TestCertificateAuthority.OriginRole);
            using var client = cluster.Authority.CreateHttpClient(foreign);
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(cluster.OriginUrl, "/v2/")));
        }

        // skopeo without a client certificate is refused; with one (client.cert/client.key in its cert dir) it pushes.
        var noClient = cluster.AgentCertificate.WriteSkopeoCertDirectory(work.Combine("no-client"), authority.CaPath, withClientCertificate: false);
        var refusedPush = await SkopeoCopyAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "mtls/app", "v1"), noClient);
        Assert.False(refusedPush.Succeeded, "the origin took a push from a client without a certificate: " + refusedPush.Describe());

        var withClient = cluster.AgentCertificate.WriteSkopeoCertDirectory(work.Combine("client"), authority.CaPath, withClientCertificate: true);
        var pushed = await SkopeoCopyAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "mtls/app", "v1"), withClient);
        Assert.True(pushed.Succeeded, pushed.Describe());

        await PullThroughAgentAsync(cluster, image, "mtls/app:v1", cluster.AgentCertificate);
        await AssertTrackerServesMetaInfoOverTlsAsync(cluster, image.Layers[^1].Digest);
    }

    [Fact]
    public async Task MutualTls_AnAgentCertificateClaimingTheOriginRole_IsRefused_AnOriginCertificateGetsIt()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        using var authority = new TestCertificateAuthority();
        await using var cluster = await TlsCluster.StartAsync(authority, new TlsClusterOptions { MutualTls = true, Agents = 0 }, Log);
        using var work = new TempDirectory("mtls-role");
        var certs = cluster.AgentCertificate.WriteSkopeoCertDirectory(work.Combine("certs"), authority.CaPath, withClientCertificate: true);
        Assert.True((await SkopeoCopyAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "role/app", "v1"), certs)).Succeeded);
        var digest = image.Layers[^1].Digest;

        using var agentChannel = Channel(cluster, cluster.AgentCertificate);
        using var originChannel = Channel(cluster, cluster.OriginCertificate);
        var asAgent = new Contracts.Tracker.Tracker.TrackerClient(agentChannel);
        var asOrigin = new Contracts.Tracker.Tracker.TrackerClient(originChannel);
        var metaInfo = await asAgent.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = digest }, deadline: DateTime.UtcNow.AddSeconds(30));

        // Both claim the origin role; only the certificate with urn:p2pregistry:role:origin gets it, the other is refused.
        var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await asAgent.AnnounceAsync(Announce(metaInfo.InfoHash, digest, peerIdByte: 1, port: 40001), deadline: DateTime.UtcNow.AddSeconds(30)));
        Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, refused.StatusCode);
        await asOrigin.AnnounceAsync(Announce(metaInfo.InfoHash, digest, peerIdByte: 2, port: 40002), deadline: DateTime.UtcNow.AddSeconds(30));

        var observer = Announce(metaInfo.InfoHash, digest, peerIdByte: 3, port: 40003);
        observer.Role = PeerRole.Agent;
        observer.Complete = false;
        observer.BytesLeft = 1;
        var seen = await asAgent.AnnounceAsync(observer, deadline: DateTime.UtcNow.AddSeconds(30));
        var byPort = seen.Peers.ToDictionary(p => p.Port);
        output.WriteLine("[test] peers: " + string.Join(", ", seen.Peers.Select(p => $"{p.Port} {p.Role}")));
        Assert.False(byPort.ContainsKey(40001));
        Assert.Equal(PeerRole.Origin, byPort[40002].Role);
    }

    [Fact]
    public async Task CertificateReplacedOnDisk_IsServedToTheNextConnection_AHalfWrittenPairKeepsTheOldOne()
    {
        using var authority = new TestCertificateAuthority();
        await using var cluster = await TlsCluster.StartAsync(authority, new TlsClusterOptions { Agents = 0 }, Log);
        var before = await TestCertificateAuthority.ServedCertificateAsync(cluster.OriginPort);
        Assert.Equal(cluster.OriginCertificate.SerialNumber, before.SerialNumber);

        // Half a rotation: a new key beside the old certificate. The pair does not load; the old one stays in service.
        authority.WriteMismatchedKey(cluster.OriginCertificate);
        await WaitForOutputAsync(cluster.Origin, "do not load", TimeSpan.FromSeconds(60));
        var during = await TestCertificateAuthority.ServedCertificateAsync(cluster.OriginPort);
        Assert.Equal(before.Thumbprint, during.Thumbprint);
        using (var client = cluster.Client())
        {
            Assert.True((await client.GetAsync(new Uri(cluster.OriginUrl, "/v2/"))).IsSuccessStatusCode);
        }

        var replaced = authority.Replace(cluster.OriginCertificate);
        Assert.NotEqual(before.SerialNumber, replaced.SerialNumber);
        var served = before;
        for (var attempt = 0; attempt < 120 && served.Thumbprint != replaced.Thumbprint; attempt++)
        {
            await Task.Delay(500);
            served = await TestCertificateAuthority.ServedCertificateAsync(cluster.OriginPort);
        }

        output.WriteLine($"[test] served serial {before.SerialNumber} -> {served.SerialNumber}");
        Assert.Equal(replaced.Thumbprint, served.Thumbprint);
        Assert.Equal(replaced.SerialNumber, served.SerialNumber);
        using (var client = cluster.Client())
        {
            Assert.True((await client.GetAsync(new Uri(cluster.OriginUrl, "/v2/"))).IsSuccessStatusCode);
        }
    }

    [Fact]
    public async Task CertificateFromAnIntermediate_RootOnlyClients_SkopeoAndHttpClientAndTrackerConnect_AlsoAfterAReload()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        using var authority = new TestCertificateAuthority();
        await using var cluster = await TlsCluster.StartAsync(authority, new TlsClusterOptions { Intermediate = true, Agents = 0 }, Log);
        using var work = new TempDirectory("tls-chain");
        var intermediate = cluster.Issuer.Root.Thumbprint;

        // origin.crt holds leaf + intermediate; every client's ca.crt holds the root alone.
        Assert.Equal(intermediate, Assert.Single(await TestCertificateAuthority.ServedIntermediatesAsync(cluster.OriginPort)).Thumbprint);
        var certs = cluster.AgentCertificate.WriteSkopeoCertDirectory(work.Combine("certs"), authority.CaPath, withClientCertificate: false);
        Assert.Single(File.ReadAllText(Path.Combine(certs, "ca.crt")).Split("BEGIN CERTIFICATE")[1..]);
        var pushed = await SkopeoCopyAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "chain/app", "v1"), certs);
        Assert.True(pushed.Succeeded, pushed.Describe());
        using (var client = cluster.Client())
        {
            Assert.True((await client.GetAsync(new Uri(cluster.OriginUrl, "/v2/"))).IsSuccessStatusCode);
        }

        // The tracker (Tracker:Tls:CaPath = the root) fetches the metainfo from the origin over the same chain.
        await AssertTrackerServesMetaInfoOverTlsAsync(cluster, image.Layers[^1].Digest);

        var replaced = cluster.Issuer.Replace(cluster.OriginCertificate);
        var served = await TestCertificateAuthority.ServedCertificateAsync(cluster.OriginPort);
        for (var attempt = 0; attempt < 120 && served.Thumbprint != replaced.Thumbprint; attempt++)
        {
            await Task.Delay(500);
            served = await TestCertificateAuthority.ServedCertificateAsync(cluster.OriginPort);
        }

        Assert.Equal(replaced.Thumbprint, served.Thumbprint);
        Assert.Equal(intermediate, Assert.Single(await TestCertificateAuthority.ServedIntermediatesAsync(cluster.OriginPort)).Thumbprint);
        var again = await SkopeoCopyAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "chain/app", "v2"), certs);
        Assert.True(again.Succeeded, again.Describe());
        using (var client = cluster.Client())
        {
            Assert.True((await client.GetAsync(new Uri(cluster.OriginUrl, "/v2/"))).IsSuccessStatusCode);
        }
    }

    [Fact]
    public async Task MutualTls_CaBundleRewrittenWithANewCa_ItsClientIsAcceptedWithoutARestart_ABrokenBundleKeepsTheOld()
    {
        using var authority = new TestCertificateAuthority();
        using var next = new TestCertificateAuthority("Next CA");
        await using var cluster = await TlsCluster.StartAsync(authority, new TlsClusterOptions { MutualTls = true, Agents = 0 }, Log);
        var v2 = new Uri(cluster.OriginUrl, "/v2/");
        var pid = cluster.Origin.Id;
        using var ours = cluster.Client();
        using var theirs = authority.CreateHttpClient(next.Issue("next-agent", TestCertificateAuthority.AgentRole));
        await Assert.ThrowsAsync<HttpRequestException>(() => theirs.GetAsync(v2));

        // A bundle caught halfway: it does not parse, the old one stays in service.
        await File.WriteAllTextAsync(authority.CaPath, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        await WaitForOutputAsync(cluster.Origin, "still verifying against the previous one", TimeSpan.FromSeconds(60));
        Assert.True((await ours.GetAsync(v2)).IsSuccessStatusCode);
        await Assert.ThrowsAsync<HttpRequestException>(() => theirs.GetAsync(v2));

        // The rotation: the new root joins the bundle. Without a restart, the new CA's client gets in within the interval.
        await File.WriteAllTextAsync(authority.CaPath, authority.Root.ExportCertificatePem() + "\n" + await File.ReadAllTextAsync(next.CaPath));
        await WaitForOutputAsync(cluster.Origin, "reloaded, 1 -> 2 certificates", TimeSpan.FromSeconds(60));
        Assert.True((await theirs.GetAsync(v2)).IsSuccessStatusCode);
        Assert.True((await ours.GetAsync(v2)).IsSuccessStatusCode);
        Assert.Equal(pid, cluster.Origin.Id);
        Assert.Null(cluster.Origin.ExitCode);
    }

    [Fact]
    public async Task PeerTls_TwoAgentsExchangeABlob_OverTlsOnThePeerPort()
    {
        var image = (await TestImages.GetAsync()).Big;
        using var authority = new TestCertificateAuthority();
        await using var cluster = await TlsCluster.StartAsync(authority, new TlsClusterOptions { PeerTls = true, Agents = 2 }, Log);
        using var work = new TempDirectory("peer-tls");
        var certs = cluster.AgentCertificate.WriteSkopeoCertDirectory(work.Combine("certs"), authority.CaPath, withClientCertificate: false);
        Assert.True((await SkopeoCopyAsync(image.Reference, Skopeo.Docker(cluster.OriginHost, "peer/big", "v1"), certs, preserveDigests: true)).Succeeded);

        var a = cluster.AgentProcesses[0];
        var b = cluster.AgentProcesses[1];
        using var client = cluster.Client();
        var layer = image.Layers[^1];
        foreach (var agent in new[] { a, b })
        {
            using var response = await client.GetAsync(new Uri(agent.Url, $"/v2/peer/big/blobs/{layer.Digest}"), HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(layer.Digest, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        }

        var fromPeersB = await MetricAsync(client, b.Url, "p2pregistry_agent_bytes_from_peers_bytes_total");
        output.WriteLine($"[test] agent B took {fromPeersB} bytes from peers over TLS");
        Assert.True(fromPeersB > 0, "agent B took nothing from the swarm");

        // A plain BitTorrent client (what every standard client speaks) at a TLS peer port: closed, no handshake back.
        await using var plain = await HostilePeer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, a.PeerPort));
        var infoHash = new InfoHash(Convert.FromHexString(new string('a', 40)));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Null(await plain.HandshakeAsync(infoHash, bound.Token));
    }

    [Fact]
    public async Task StartUp_MissingOrMismatchedFiles_FailWithTheKeyNamed()
    {
        using var authority = new TestCertificateAuthority();
        var leaf = authority.Issue("origin");
        using var storage = new TempDirectory("origin-bad-tls");
        var dll = RepositoryPaths.ProjectDll("Origin", "P2PRegistry.Origin");
        List<string> Arguments(string certificate, string key) =>
        [
            dll, "--urls", $"https://127.0.0.1:{FreePort.Next()}", $"--Origin:StoragePath={storage.Path}", "--Origin:Peer:Port=0",
            $"--Origin:Tls:CertificatePath={certificate}", $"--Origin:Tls:KeyPath={key}",
        ];

        var missing = await ProcessRunner.RunAsync("dotnet", Arguments(authority.Directory + "/nope.crt", leaf.KeyPath), TimeSpan.FromMinutes(2));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("Origin:Tls:CertificatePath", missing.StandardError, StringComparison.Ordinal);
        Assert.Contains("does not exist", missing.StandardError, StringComparison.Ordinal);

        var other = authority.Issue("other");
        var mismatched = await ProcessRunner.RunAsync("dotnet", Arguments(leaf.CertificatePath, other.KeyPath), TimeSpan.FromMinutes(2));
        Assert.Equal(2, mismatched.ExitCode);
        Assert.Contains("do not load as a pair", mismatched.StandardError, StringComparison.Ordinal);

        var noCertificate = await ProcessRunner.RunAsync("dotnet",
            [dll, "--urls", $"https://127.0.0.1:{FreePort.Next()}", $"--Origin:StoragePath={storage.Path}", "--Origin:Peer:Port=0"], TimeSpan.FromMinutes(2));
        Assert.Equal(2, noCertificate.ExitCode);
        Assert.Contains("Origin:Tls:CertificatePath", noCertificate.StandardError, StringComparison.Ordinal);
    }

    private static AnnounceRequest Announce(ByteString infoHash, string digest, byte peerIdByte, int port)
    {
        var peerId = new byte[20];
        Array.Fill(peerId, peerIdByte);
        return new AnnounceRequest
        {
            InfoHash = infoHash,
            Digest = digest,
            PeerId = ByteString.CopyFrom(peerId),
            Port = port,
            Role = PeerRole.Origin,
            Complete = true,
            Event = AnnounceEvent.Started,
        };
    }

    private static GrpcChannel Channel(TlsCluster cluster, TestCertificate? clientCertificate)
    {
        var handler = new SocketsHttpHandler { UseProxy = false };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            (errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) == 0 && cluster.Authority.Verifies(certificate, chain);
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate.Certificate];
        }

        return GrpcChannel.ForAddress(cluster.TrackerGrpcUrl, new GrpcChannelOptions { HttpHandler = handler });
    }

    /// <summary>The tracker fetched the blob's metainfo from the origin (TLS) and hands it out over gRPC (TLS).</summary>
    private async Task AssertTrackerServesMetaInfoOverTlsAsync(TlsCluster cluster, string digest)
    {
        using var channel = Channel(cluster, cluster.Options.MutualTls ? cluster.AgentCertificate : null);
        var response = await new Contracts.Tracker.Tracker.TrackerClient(channel)
            .GetMetaInfoAsync(new GetMetaInfoRequest { Digest = digest }, deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Equal(20, response.InfoHash.Length);
        Assert.Contains(digest, Encoding.ASCII.GetString(response.Info.Span), StringComparison.Ordinal);
        output.WriteLine($"[test] tracker answered the metainfo of {digest} over TLS");
    }

    private async Task PullThroughAgentAsync(TlsCluster cluster, OciImage image, string repositoryAndTag, TestCertificate? clientCertificate)
    {
        var agent = cluster.AgentProcesses[0];
        var reference = $"{UnresolvableRegistry}/{repositoryAndTag}";
        await using var node = await ContainerdProcess.StartAsync(output.WriteLine);
        // hosts.toml as a node gets it: the agent's node-setup sub-command, with the CA (and client certificate) options.
        List<string> setup =
        [
            RepositoryPaths.ProjectDll("Agent", "P2PRegistry.Agent"), "node-setup", "--hosts-dir", node.HostsDirectory, "--no-default",
            "--registry", $"{UnresolvableRegistry}=http://{UnresolvableRegistry}", "--agent-url", agent.Url.GetLeftPart(UriPartial.Authority),
            "--agent-ca", cluster.Authority.CaPath, "--containerd-config", Path.Combine(node.HostsDirectory, "no-config.toml"),
        ];
        if (clientCertificate is not null)
        {
            setup.AddRange(["--agent-client-cert", clientCertificate.CertificatePath, "--agent-client-key", clientCertificate.KeyPath]);
        }

        var written = await ProcessRunner.RunOrThrowAsync("dotnet", setup, TimeSpan.FromMinutes(1));
        output.WriteLine("[node-setup] " + written.StandardOutput.Trim());
        var toml = await File.ReadAllTextAsync(Path.Combine(node.HostsDirectory, UnresolvableRegistry, "hosts.toml"));
        Assert.Contains($"ca = \"{cluster.Authority.CaPath}\"", toml, StringComparison.Ordinal);
        await node.CtrOrThrowAsync(["images", "pull", "--hosts-dir", node.HostsDirectory, reference], TimeSpan.FromMinutes(2));
        await AgentPullTests.AssertUnpackedAsync(node, reference, image);
    }

    private static Task<ProcessResult> SkopeoCopyAsync(string source, string destination, string? certDirectory, bool preserveDigests = false)
    {
        List<string> arguments = ["--insecure-policy", "copy", "--dest-no-creds"];
        if (certDirectory is not null)
        {
            arguments.Add($"--dest-cert-dir={certDirectory}");
        }

        if (preserveDigests)
        {
            arguments.Add("--preserve-digests");
        }

        arguments.Add(source);
        arguments.Add(destination);
        return ProcessRunner.RunAsync("skopeo", arguments, TimeSpan.FromMinutes(3));
    }

    private static async Task WaitForOutputAsync(ManagedProcess process, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!process.RecentOutput().Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no output line with '{text}' within {timeout}: {process.Describe()}");
            await Task.Delay(200);
        }
    }

    private static async Task<long> MetricAsync(HttpClient client, Uri baseUrl, string name)
    {
        var text = await client.GetStringAsync(new Uri(baseUrl, "/metrics"));
        var total = 0L;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && (line.Length == name.Length || line[name.Length] is ' ' or '{'))
            {
                total += (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    private Action<string> Log(string name) => line =>
    {
        try
        {
            output.WriteLine($"[{name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // Output after the test ended.
        }
    };
}

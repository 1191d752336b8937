using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using P2PRegistry.Integration.Tests.Origin;
using P2PRegistry.Integration.Tests.Swarm;

namespace P2PRegistry.Integration.Tests.Agent;

/// <summary>
/// The agent as dockerd's <c>registry-mirrors</c> entry: dockerd sends Docker Hub pulls to a mirror with no <c>ns</c>
/// parameter, official images as <c>library/&lt;name&gt;</c>, and a Go client's separate <c>Accept</c> lines. Here the
/// requests dockerd sends are replayed against a real agent whose origin has "docker.io" mapped to a docker-registry
/// standing in for Docker Hub.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class DockerMirrorTests(ITestOutputHelper output)
{
    // What dockerd (moby's distribution client) sends: one Accept line per manifest type it knows.
    private static readonly string[] DockerManifestAccept =
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/json",
    ];

    private const string DockerUserAgent = "docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.1.0 os/linux arch/amd64 UpstreamClient(Docker-Client/24.0.7 \\(linux\\))";

    [Fact]
    public async Task DockerdMirrorRequests_WithoutNs_AreServedFromDockerHubThroughTheAgent()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        await using var hub = await DockerRegistryProcess.StartAsync(new DockerRegistryOptions { OnOutputLine = Log("docker-hub") });
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(hub.Host, "library/busybox", "latest"), new SkopeoCopyOptions { Format = "v2s2" });
        await using var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            OnOutputLine = Log("origin"),
            ExtraArguments = ["--Origin:Upstreams:0:Name=docker.io", $"--Origin:Upstreams:0:Url={hub.BaseAddress}", "--Origin:Upstreams:0:AllowHttp=true"],
        });
        await using var tracker = await TrackerProcess.StartAsync(origin.BaseAddress, Log("tracker"));
        await using var agent = await AgentProcess.StartAsync("agent-docker", tracker.GrpcUrl, origin.BaseAddress, Log("agent"), "--Agent:MissTimeout=00:00:10");

        using var direct = new HttpClient { BaseAddress = hub.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var expected = await SendAsync(direct, HttpMethod.Get, "/v2/library/busybox/manifests/latest", DockerManifestAccept);
        var expectedBytes = await expected.Content.ReadAsByteArrayAsync();
        var expectedDigest = expected.Headers.GetValues("Docker-Content-Digest").Single();
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", expected.Content.Headers.ContentType!.MediaType);

        using var mirror = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        mirror.DefaultRequestHeaders.UserAgent.ParseAdd("docker/24.0.7");

        // 1. dockerd pings the mirror first.
        using (var ping = await SendAsync(mirror, HttpMethod.Get, "/v2/", []))
        {
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
            Assert.Equal("registry/2.0", ping.Headers.GetValues("Docker-Distribution-API-Version").Single());
        }

        // 2. HEAD the tag for its digest, 3. GET the manifest by digest (and by tag, as older dockerd does).
        var head = await SendRawAsync(agent.BaseAddress, "HEAD", "/v2/library/busybox/manifests/latest", DockerManifestAccept);
        Assert.Equal(200, head.Status);
        Assert.Equal(expectedDigest, head.Header("Docker-Content-Digest"));
        Assert.Equal(expectedBytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), head.Header("Content-Length"));
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", head.Header("Content-Type"));
        Assert.Empty(head.Body);

        foreach (var reference in new[] { expectedDigest, "latest" })
        {
            var get = await SendRawAsync(agent.BaseAddress, "GET", $"/v2/library/busybox/manifests/{reference}", DockerManifestAccept);
            Assert.Equal(200, get.Status);
            Assert.False(get.Headers.Contains("Content-Encoding"), "a manifest must not be re-encoded");
            Assert.Equal(expectedBytes, get.Body);
        }

        // 4. The config and the layers by digest, each checked against its digest as dockerd does.
        using var manifest = JsonDocument.Parse(expectedBytes);
        var blobs = new List<string> { manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()! };
        blobs.AddRange(manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!));
        foreach (var digest in blobs)
        {
            using var blob = await SendAsync(mirror, HttpMethod.Get, $"/v2/library/busybox/blobs/{digest}", []);
            Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
            var bytes = await blob.Content.ReadAsByteArrayAsync();
            Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }

        // A one-part name (a client that does not add library/ itself) reaches the same image.
        var onePart = await SendRawAsync(agent.BaseAddress, "GET", "/v2/busybox/manifests/latest", DockerManifestAccept);
        Assert.Equal(200, onePart.Status);
        Assert.Equal(expectedDigest, onePart.Header("Docker-Content-Digest"));

        // The requests reached "Docker Hub" through the origin, not around it.
        Assert.True(hub.CountRequests("GET", $"/v2/library/busybox/blobs/{blobs[^1]}", 200) >= 1, "the layer was never fetched from the Docker Hub stand-in");
        Assert.True(await agent.MetricAsync("p2pregistry_agent_manifests_served_total") >= 4);
        output.WriteLine($"[test] served {blobs.Count} blobs and the manifest {expectedDigest} as a docker mirror");
    }

    /// <summary>
    /// The request as dockerd writes it: HTTP/1.1, one <c>Accept</c> line per type (HttpClient would join them into
    /// one line), read until the server closes.
    /// </summary>
    private static async Task<RawResponse> SendRawAsync(Uri server, string method, string path, string[] accept)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await tcp.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = tcp.GetStream();
        var head = new System.Text.StringBuilder()
            .Append(System.Globalization.CultureInfo.InvariantCulture, $"{method} {path} HTTP/1.1\r\nHost: {server.Authority}\r\nUser-Agent: {DockerUserAgent}\r\n");
        foreach (var type in accept)
        {
            head.Append(System.Globalization.CultureInfo.InvariantCulture, $"Accept: {type}\r\n");
        }

        head.Append("Accept-Encoding: gzip\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head.ToString()), timeout.Token);
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, timeout.Token);
        var all = received.ToArray();
        var end = all.AsSpan().IndexOf("\r\n\r\n"u8);
        Assert.True(end > 0, "no response head");
        var lines = System.Text.Encoding.ASCII.GetString(all, 0, end).Split("\r\n");
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToLookup(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        return new RawResponse(int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers, all[(end + 4)..]);
    }

    private sealed record RawResponse(int Status, ILookup<string, string> Headers, byte[] Body)
    {
        public string Header(string name) => Headers[name].Single();
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string[] accept)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("User-Agent", DockerUserAgent);
        foreach (var type in accept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        return await client.SendAsync(request);
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

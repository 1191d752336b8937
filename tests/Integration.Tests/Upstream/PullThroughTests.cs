using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using P2PRegistry.Testing.Http;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Integration.Tests.Upstream;

/// <summary>
/// The origin pulling through from a Docker-Hub-like upstream (docker-registry + token auth, real processes):
/// by HTTP with <c>?ns=</c>, by skopeo through the default upstream, one upstream GET per blob under concurrency,
/// fills that outlive their requester, a stopped upstream, wrong credentials and an upstream path that corrupts bytes.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class PullThroughTests : IClassFixture<UpstreamFixture>, IDisposable
{
    private const string Ns = "?ns=registry.example.com%3A5000";
    private readonly UpstreamFixture _fixture;
    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _temp = new("pullthrough");
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public PullThroughTests(UpstreamFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Attach(output);
    }

    private OciImage Image => _fixture.Image;

    private Task<OriginProcess> StartOriginAsync(Uri upstream, string password = UpstreamFixture.Password, params string[] more) =>
        OriginProcess.StartAsync(new OriginOptions
        {
            ExtraArguments = UpstreamFixture.OriginArguments(upstream, password, more),
            OnOutputLine = line => Log(line),
        });

    [Fact]
    public async Task Http_WithNs_TagManifestAndEveryBlob_AreTheUpstreamBytes_MetaInfoAfterTheFill()
    {
        await using var origin = await StartOriginAsync(_fixture.Registry.BaseAddress);
        var baseUrl = origin.BaseAddress;

        using var manifest = await _http.GetAsync(new Uri(baseUrl, $"v2/team/app/manifests/v1{Ns}"));
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        var manifestBytes = await manifest.Content.ReadAsByteArrayAsync();
        Assert.Equal(_fixture.ManifestDigest, Sha256(manifestBytes));
        Assert.Equal(_fixture.ManifestDigest, manifest.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", manifest.Content.Headers.ContentType!.MediaType);

        using var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri(baseUrl, $"v2/team/app/manifests/v1{Ns}")));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(manifestBytes.Length, head.Content.Headers.ContentLength);

        Assert.Equal(2, Image.BlobDigests.Count - 1);
        foreach (var digest in Image.BlobDigests)
        {
            using (var before = await _http.GetAsync(new Uri(baseUrl, $"p2p/v1/metainfo/{digest}")))
            {
                Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
            }

            using var blobHead = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri(baseUrl, $"v2/team/app/blobs/{digest}{Ns}")));
            Assert.Equal(HttpStatusCode.OK, blobHead.StatusCode);

            using var blob = await _http.GetAsync(new Uri(baseUrl, $"v2/team/app/blobs/{digest}{Ns}"));
            Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
            var bytes = await blob.Content.ReadAsByteArrayAsync();
            Assert.Equal(digest, Sha256(bytes));
            Assert.Equal(blobHead.Content.Headers.ContentLength, bytes.Length);

            // The body's last byte goes out once it hashed to its digest; the metainfo comes with the commit just after.
            await Eventually.AssertAsync(async () =>
            {
                using var after = await _http.GetAsync(new Uri(baseUrl, $"p2p/v1/metainfo/{digest}"));
                return after.StatusCode == HttpStatusCode.OK && after.Headers.Contains("X-P2P-Info-Hash");
            }, $"the metainfo of {digest} served once the fill committed");
        }
    }

    [Fact]
    public async Task Skopeo_WithDefaultUpstream_PullsTheUpstreamImageThroughTheOrigin()
    {
        await using var origin = await StartOriginAsync(_fixture.Registry.BaseAddress, UpstreamFixture.Password, $"--Origin:DefaultUpstream={UpstreamFixture.Name}");
        var dir = _temp.Combine("skopeo");
        await Skopeo.CopyOrThrowAsync(Skopeo.Docker(origin.Host, "team/app", "v1"), Skopeo.Dir(dir));
        var layout = DirImageLayout.Open(dir);
        Assert.Equal(_fixture.ManifestDigest, layout.ManifestDigest());
        Assert.Empty(layout.Problems());
        Assert.Equal(Image.BlobDigests.Order(), layout.ContentFiles().Keys.Order());
    }

    [Fact]
    public async Task UpstreamAcceptsAndHangs_DefaultSettings_CachedTagServedBeforeTheAgentGivesUp()
    {
        // The same store, first behind the real upstream (to cache the tag), then behind one that accepts
        // connections and never answers.
        var storage = _temp.Combine("store");
        await using (var warmOrigin = await OriginProcess.StartAsync(new OriginOptions { StoragePath = storage, ExtraArguments = UpstreamFixture.OriginArguments(_fixture.Registry.BaseAddress), OnOutputLine = Log }))
        {
            using var warm = await _http.GetAsync(new Uri(warmOrigin.BaseAddress, $"v2/team/app/manifests/v1{Ns}"));
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        using var hanging = new TcpListener(IPAddress.Loopback, 0);
        hanging.Start();
        var held = new System.Collections.Concurrent.ConcurrentQueue<Socket>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                held.Enqueue(await hanging.AcceptSocketAsync(stop.Token));
            }
        });
        try
        {
            var url = new Uri($"http://127.0.0.1:{((IPEndPoint)hanging.LocalEndpoint).Port}/");
            await using var origin = await OriginProcess.StartAsync(new OriginOptions { StoragePath = storage, ExtraArguments = UpstreamFixture.OriginArguments(url), OnOutputLine = Log });

            // The agent gives up on a manifest after 30 s: the cached tag must arrive before that.
            using var agentLike = new HttpClient { Timeout = TimeSpan.FromSeconds(25) };
            using var cached = await agentLike.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/manifests/v1{Ns}"));
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
            Assert.Equal(_fixture.ManifestDigest, cached.Headers.GetValues("Docker-Content-Digest").Single());
            await AssertLoggedAsync(origin, "revalidation timeout");
            Assert.NotEmpty(held);
        }
        finally
        {
            await stop.CancelAsync();
            await accepting.ContinueWith(_ => { }, TaskScheduler.Default);
            foreach (var socket in held)
            {
                socket.Dispose();
            }

            hanging.Stop();
        }
    }

    [Fact]
    public async Task Skopeo_PushIntoAPulledThroughRepository_IsDenied_PushElsewhereWorks()
    {
        await using var origin = await StartOriginAsync(_fixture.Registry.BaseAddress);

        // docker.io (built in) and the configured upstream's local prefix are pull-through only.
        foreach (var repository in new[] { "docker.io/library/app", "registry.example.com-5000/team/app" })
        {
            var refused = await Skopeo.CopyAsync(Image.Reference, Skopeo.Docker(origin.Host, repository, "latest"));
            Assert.False(refused.Succeeded, refused.Describe());
            Assert.Contains("denied", refused.StandardError, StringComparison.OrdinalIgnoreCase);
            using var nothing = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/{repository}/manifests/latest"));
            Assert.Equal(HttpStatusCode.NotFound, nothing.StatusCode);
        }

        var pushed = await Skopeo.PushAsync(Image.Reference, Skopeo.Docker(origin.Host, "team/mine", "latest"));
        using var manifest = await _http.GetAsync(new Uri(origin.BaseAddress, "v2/team/mine/manifests/latest"));
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(pushed, manifest.Headers.GetValues("Docker-Content-Digest").Single());
    }

    [Fact]
    public async Task FourConcurrentColdPulls_CauseOneUpstreamGetPerBlob()
    {
        // A registry of its own, so its access log holds this test's requests only.
        await using var upstream = await _fixture.StartRegistryAsync(_fixture.Registry.StoragePath);
        // A slow path (8 MiB/s) keeps the 4 MiB layer's fill running while all four pulls ask for it.
        await using var proxy = TcpProxy.Start(upstream.Port, bytesPerSecond: 8 * 1024 * 1024);
        await using var origin = await StartOriginAsync(new Uri($"http://{proxy.Host}/"));

        async Task PullAsync()
        {
            using var manifest = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/manifests/v1{Ns}"));
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            await Task.WhenAll(Image.BlobDigests.Select(async digest =>
            {
                var bytes = await _http.GetByteArrayAsync(new Uri(origin.BaseAddress, $"v2/team/app/blobs/{digest}{Ns}"));
                Assert.Equal(digest, Sha256(bytes));
            }));
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(PullAsync)));
        // And once more for the layer alone, four at once, now that it is stored: no upstream request at all.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _http.GetByteArrayAsync(new Uri(origin.BaseAddress, $"v2/team/app/blobs/{Image.LayerDigests[^1]}{Ns}"))));

        foreach (var entry in upstream.AccessLog())
        {
            _output.WriteLine($"upstream: {entry.Method} {entry.Target} {entry.Status}");
        }

        foreach (var digest in Image.BlobDigests)
        {
            var path = $"/v2/team/app/blobs/{digest}";
            // A 401 is the token handshake, not a transfer; every other GET would be.
            Assert.Equal(1, upstream.AccessLog().Count(e => e.Method == "GET" && e.Path == path && e.Status != 401));
            Assert.Equal(1, upstream.CountRequests("GET", path, 200));
        }
    }

    [Fact]
    public async Task RequesterDisconnectsAfterTheFirstBytes_FillCompletesAndIsServedFromTheStore()
    {
        await using var upstream = await _fixture.StartRegistryAsync(_fixture.Registry.StoragePath);
        await using var proxy = TcpProxy.Start(upstream.Port, bytesPerSecond: 2 * 1024 * 1024);
        await using var origin = await StartOriginAsync(new Uri($"http://{proxy.Host}/"));
        var layer = Image.Layers[^1];
        using (var response = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/blobs/{layer.Digest}{Ns}"), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(layer.Size, response.Content.Headers.ContentLength);
            var stream = await response.Content.ReadAsStreamAsync();
            Assert.True(await stream.ReadAsync(new byte[1024]) > 0);
        }

        // The upstream path is slow (2 MiB/s): the requester is gone long before the fill ends.
        proxy.SetRate(0);
        var stored = BlobData(origin, layer.Digest);
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(stored) && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        Assert.True(File.Exists(stored), "the fill did not complete after its requester left");
        Assert.Equal(layer.Digest, Sha256(await File.ReadAllBytesAsync(stored)));
        upstream.Kill();
        var bytes = await _http.GetByteArrayAsync(new Uri(origin.BaseAddress, $"v2/team/app/blobs/{layer.Digest}{Ns}"));
        Assert.Equal(layer.Digest, Sha256(bytes));
    }

    [Fact]
    public async Task UpstreamStopped_CachedTagStillResolves_UncachedImageFailsFast()
    {
        var upstream = await _fixture.StartRegistryAsync(_fixture.Registry.StoragePath);
        await using var origin = await StartOriginAsync(upstream.BaseAddress);
        using (var warm = await _http.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/manifests/v1{Ns}")))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        await upstream.DisposeAsync();
        using var fast = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var cached = await fast.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/manifests/v1{Ns}"));
        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        Assert.Equal(_fixture.ManifestDigest, cached.Headers.GetValues("Docker-Content-Digest").Single());
        await AssertLoggedAsync(origin, "not revalidated");

        // The 10 s client timeout is the "fast" bound: a hang would throw instead of answering.
        using var uncached = await fast.GetAsync(new Uri(origin.BaseAddress, $"v2/team/other/manifests/v1{Ns}"));
        Assert.True(uncached.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.NotFound, $"got {uncached.StatusCode}");
        using var blob = await fast.GetAsync(new Uri(origin.BaseAddress, $"v2/team/other/blobs/{Image.LayerDigests[^1]}{Ns}"));
        Assert.True(blob.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.NotFound, $"got {blob.StatusCode}");
    }

    [Fact]
    public async Task WrongCredentials_LogLineNamesTheUpstream_ClientGetsAFastError()
    {
        const string WrongPassword = "not-the-s3cret-7f3a";
        await using var origin = await StartOriginAsync(_fixture.Registry.BaseAddress, password: WrongPassword);
        using var fast = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var manifest = await fast.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/manifests/v1{Ns}"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, manifest.StatusCode);
        using var blob = await fast.GetAsync(new Uri(origin.BaseAddress, $"v2/team/app/blobs/{Image.ConfigDigest}{Ns}"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, blob.StatusCode);
        await AssertLoggedAsync(origin, $"Upstream {UpstreamFixture.Name}: credentials rejected");
        // The password is on the command line the harness echoes, and nowhere in what the origin wrote.
        Assert.DoesNotContain(WrongPassword, origin.Process.RecentOutput().Replace($"--Origin:Upstreams:0:Password={WrongPassword}", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamPathFlipsAByte_NothingStored_MismatchLogged_ClientGetsNoCompleteBody()
    {
        await using var proxy = TcpProxy.Start(_fixture.Registry.Port);
        // Every MiB: past the first response heads, inside the 4 MiB layer's body, on every attempt.
        proxy.FlipServerByteEvery = 1024 * 1024;
        await using var origin = await StartOriginAsync(new Uri($"http://{proxy.Host}/"));
        var layer = Image.Layers.MaxBy(l => l.Size)!;
        var url = new Uri(origin.BaseAddress, $"v2/team/app/blobs/{layer.Digest}{Ns}");

        for (var attempt = 0; attempt < 2; attempt++)
        {
            long received = 0;
            using (var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead))
            {
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    (received, var cut) = await ResponseBodies.DrainAsync(response);
                    Assert.True(cut, "a bad blob's stream must be cut");
                }
            }

            Assert.True(received < layer.Size, $"received {received} of {layer.Size} bytes of a corrupted blob");
            Assert.False(File.Exists(BlobData(origin, layer.Digest)), "a corrupted blob entered the store");
        }

        // Each attempt went to the upstream again (nothing was cached), and each was corrupted and refused.
        Assert.True(proxy.BytesFlipped >= 2, $"flipped {proxy.BytesFlipped}");
        await AssertLoggedAsync(origin, $"Upstream {UpstreamFixture.Name}: blob {layer.Digest} digest mismatch: content is sha256:");
        Assert.Empty(Directory.GetFiles(Path.Combine(origin.StoragePath, "uploads")));
        using var metaInfo = await _http.GetAsync(new Uri(origin.BaseAddress, $"p2p/v1/metainfo/{layer.Digest}"));
        Assert.Equal(HttpStatusCode.NotFound, metaInfo.StatusCode);
    }

    /// <summary>The origin logs through a queue: a line may reach its output shortly after the response did.</summary>
    private static async Task AssertLoggedAsync(OriginProcess origin, string text)
    {
        var deadline = Stopwatch.StartNew();
        while (!origin.Process.RecentOutput().Contains(text, StringComparison.Ordinal) && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Assert.Contains(text, origin.Process.RecentOutput(), StringComparison.Ordinal);
    }

    private static string BlobData(OriginProcess origin, string digest)
    {
        var hex = digest["sha256:".Length..];
        return Path.Combine(origin.StoragePath, "blobs", "sha256", hex[..2], hex, "data");
    }

    private static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    private void Log(string line)
    {
        try
        {
            _output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _temp.Dispose();
    }
}

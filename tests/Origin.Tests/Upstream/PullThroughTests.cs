using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Upstream;
using P2PRegistry.Testing.Http;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Origin.Tests.Upstream;

/// <summary>
/// The origin pulling through from an in-process upstream: routing (local first, then <c>ns</c>), manifests
/// revalidated and cached, and the single-flight streaming blob fill with its verification rules.
/// </summary>
public sealed class PullThroughTests : IAsyncLifetime
{
    private const string Ns = "?ns=fake.registry%3A5000";
    private const string Local = "fake.registry-5000/team/app";
    private FakeUpstream _upstream = null!;
    private OriginServer _origin = null!;
    private byte[] _layer = null!;
    private byte[] _config = null!;
    private Digest _layerDigest;
    private Digest _manifestDigest;
    private byte[] _manifest = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _layer = OriginServer.RandomBytes(3 * 1024 * 1024 + 17, 7);
        _config = OriginServer.RandomBytes(300, 8);
        _layerDigest = Digest.Compute(_layer);
        (_manifestDigest, _manifest) = _upstream.AddImage("team/app", "v1", _layer, _config);
        _origin = await OriginServer.StartAsync(_upstream.OriginArguments());
    }

    public async Task DisposeAsync()
    {
        await _origin.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private string BlobTail => $"blobs/{_layerDigest.Value}";

    /// <summary>The fill's move into the store follows its last byte: waits (bounded) for it.</summary>
    private async Task WaitStoredAsync(Digest digest)
    {
        var stored = _origin.BlobDataPath(digest);
        for (var i = 0; i < 200 && !File.Exists(stored); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(stored), $"{digest} was not stored");
    }

    [Fact]
    public async Task Manifest_ByTag_IsPulledStoredAndRevalidatedEveryTime()
    {
        using var first = await _origin.Client.GetAsync($"/v2/team/app/manifests/v1{Ns}");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(_manifest, await first.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", first.Content.Headers.ContentType!.ToString());
        Assert.Equal(_manifestDigest.Value, first.Headers.GetValues("Docker-Content-Digest").Single());

        using var second = await _origin.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/team/app/manifests/v1{Ns}"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(_manifest.Length, second.Content.Headers.ContentLength);
        Assert.Equal(_manifestDigest.Value, second.Headers.GetValues("Docker-Content-Digest").Single());

        // Two revalidations (HEAD), one fetch: the second time the digest was already stored.
        Assert.Equal(2, _upstream.Count("HEAD", "manifests/v1"));
        Assert.Equal(1, _upstream.Count("GET", $"manifests/{_manifestDigest.Value}") + _upstream.Count("GET", "manifests/v1"));

        // By digest: from the store, the upstream is not asked.
        var before = _upstream.Total;
        using var byDigest = await _origin.Client.GetAsync($"/v2/team/app/manifests/{_manifestDigest.Value}{Ns}");
        Assert.Equal(HttpStatusCode.OK, byDigest.StatusCode);
        Assert.Equal(before, _upstream.Total);
    }

    [Fact]
    public async Task Manifest_UpstreamBroken_CachedTagStillResolves_UncachedIs503()
    {
        using (var warm = await _origin.Client.GetAsync($"/v2/team/app/manifests/v1{Ns}"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        _upstream.Broken = true;
        using var cached = await _origin.Client.GetAsync($"/v2/team/app/manifests/v1{Ns}");
        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        Assert.Equal(_manifestDigest.Value, cached.Headers.GetValues("Docker-Content-Digest").Single());

        _upstream.AddImage("team/other", "v1", [1, 2, 3], [4, 5]);
        using var uncached = await _origin.Client.GetAsync($"/v2/team/other/manifests/v1{Ns}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, uncached.StatusCode);
        Assert.Contains("UNAVAILABLE", await uncached.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Manifest_UnknownUpstream_Is404ManifestUnknown()
    {
        using var missing = await _origin.Client.GetAsync($"/v2/team/nothing/manifests/v1{Ns}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("MANIFEST_UNKNOWN", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Routing_PushedRepository_NeverAnswersForTheUpstream_OnlyForNoNsOrTheOriginsOwnName()
    {
        // The hijack: an image pushed under the name the upstream's image has.
        var (pushed, body) = await _origin.PushImageAsync("team/app", "v1");
        Assert.NotEqual(_manifestDigest, pushed);

        using (var upstream = await _origin.Client.GetAsync($"/v2/team/app/manifests/v1{Ns}"))
        {
            Assert.Equal(HttpStatusCode.OK, upstream.StatusCode);
            Assert.Equal(_manifest, await upstream.Content.ReadAsByteArrayAsync());
            Assert.Equal(_manifestDigest.Value, upstream.Headers.GetValues("Docker-Content-Digest").Single());
        }

        // By digest as well: the pushed manifest is not the upstream's, whatever its digest.
        using (var byDigest = await _origin.Client.GetAsync($"/v2/team/app/manifests/{pushed.Value}{Ns}"))
        {
            await OriginServer.AssertErrorAsync(byDigest, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        }

        // Without ns, and with the name the client dialled (the Host header), the pushed image answers.
        foreach (var query in new[] { "", $"?ns={Uri.EscapeDataString(_origin.BaseAddress.Authority)}" })
        {
            using var local = await _origin.Client.GetAsync($"/v2/team/app/manifests/v1{query}");
            Assert.Equal(HttpStatusCode.OK, local.StatusCode);
            Assert.Equal(body, await local.Content.ReadAsByteArrayAsync());
            Assert.Equal(pushed.Value, local.Headers.GetValues("Docker-Content-Digest").Single());
        }

        // An ns that is neither: unknown name, for manifests, blobs and tags alike.
        foreach (var path in new[] { "manifests/v1", $"blobs/{_layerDigest.Value}", "tags/list" })
        {
            using var stranger = await _origin.Client.GetAsync($"/v2/team/app/{path}?ns=elsewhere.example");
            await OriginServer.AssertErrorAsync(stranger, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        }

        // Tags are not listed for an upstream's ns.
        using (var tags = await _origin.Client.GetAsync($"/v2/team/app/tags/list{Ns}"))
        {
            await OriginServer.AssertErrorAsync(tags, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        }

        // No ns and no default upstream: local content only, the upstream is not asked for what is not here.
        var before = _upstream.Total;
        using var noNs = await _origin.Client.GetAsync($"/v2/team/other/blobs/{_layerDigest.Value}");
        Assert.Equal(HttpStatusCode.NotFound, noNs.StatusCode);
        Assert.Equal(before, _upstream.Total);
    }

    [Theory]
    [InlineData("POST", "fake.registry-5000/team/app/blobs/uploads/")]
    [InlineData("POST", "docker.io/library/busybox/blobs/uploads/")]
    [InlineData("POST", "docker.io/blobs/uploads/")]
    [InlineData("PATCH", "docker.io/library/busybox/blobs/uploads/0123456789abcdef0123456789abcdef")]
    [InlineData("PUT", "docker.io/library/busybox/blobs/uploads/0123456789abcdef0123456789abcdef?digest=sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("DELETE", "docker.io/library/busybox/blobs/uploads/0123456789abcdef0123456789abcdef")]
    [InlineData("PUT", "docker.io/library/busybox/manifests/latest")]
    [InlineData("DELETE", "fake.registry-5000/team/app/manifests/v1")]
    [InlineData("DELETE", "fake.registry-5000/team/app/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task Write_ToAPulledThroughRepository_Is403Denied(string method, string target)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/v2/{target}") { Content = OriginServer.Bytes([1, 2, 3]) };
        using var response = await _origin.Client.SendAsync(request);
        await OriginServer.AssertErrorAsync(response, HttpStatusCode.Forbidden, "DENIED");
        Assert.Contains("pulled through", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushedTag_CannotPoisonThePulledThroughTag_WhenTheUpstreamIsDown()
    {
        var (_, body) = await PushLocalImageAsync();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using (var poison = await _origin.Client.PutAsync($"/v2/{Local}/manifests/v1", content))
        {
            await OriginServer.AssertErrorAsync(poison, HttpStatusCode.Forbidden, "DENIED");
        }

        _upstream.Broken = true;
        using var pulled = await _origin.Client.GetAsync($"/v2/team/app/manifests/v1{Ns}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, pulled.StatusCode);
    }

    /// <summary>An image pushed under an ordinary name (allowed), whose manifest a pusher would like to plant elsewhere.</summary>
    private Task<(Digest Digest, byte[] Body)> PushLocalImageAsync() => _origin.PushImageAsync("team/mine", "v1", seed: 5);

    [Fact]
    public async Task Blob_FourConcurrentColdGets_OneUpstreamGet_HeadersBeforeTheBodyArrived()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var responses = new List<HttpResponseMessage>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                // Headers arrive while the upstream body is held half way: the fill streams.
                var response = await _origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}", HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(_layer.Length, response.Content.Headers.ContentLength);
                responses.Add(response);
            }

            Assert.False(File.Exists(_origin.BlobDataPath(_layerDigest)));
            using (var metaInfoBefore = await _origin.Client.GetAsync($"/p2p/v1/metainfo/{_layerDigest.Value}"))
            {
                Assert.Equal(HttpStatusCode.NotFound, metaInfoBefore.StatusCode);
            }

            _upstream.Gate.SetResult();
            foreach (var response in responses)
            {
                Assert.Equal(_layer, await response.Content.ReadAsByteArrayAsync());
            }
        }
        finally
        {
            responses.ForEach(r => r.Dispose());
        }

        Assert.Equal(1, _upstream.Count("GET", BlobTail));
        // The final byte went out once the digest matched; the fsync and the move into the store follow.
        await WaitStoredAsync(_layerDigest);
        using var metaInfo = await _origin.Client.GetAsync($"/p2p/v1/metainfo/{_layerDigest.Value}");
        Assert.Equal(HttpStatusCode.OK, metaInfo.StatusCode);

        // Now from the store, for any repository and ns.
        using var again = await _origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}");
        Assert.Equal(_layer, await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, _upstream.Count("GET", BlobTail));
    }

    [Fact]
    public async Task Blob_RangeWhileFilling_WaitsForItsBytes()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = _layer.Length - 1000;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/team/app/{BlobTail}{Ns}");
        request.Headers.Range = new RangeHeaderValue(start, null);
        var pending = _origin.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var response = await pending;
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes {start}-{_layer.Length - 1}/{_layer.Length}", response.Content.Headers.ContentRange!.ToString());
        var body = response.Content.ReadAsByteArrayAsync();
        _upstream.Gate.SetResult();
        Assert.Equal(_layer[start..], await body);
    }

    [Fact]
    public async Task Blob_RequesterDisconnects_FillCompletesIntoTheStore()
    {
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var response = await _origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}", HttpCompletionOption.ResponseHeadersRead))
        {
            var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[4096];
            Assert.True(await stream.ReadAsync(buffer) > 0);
        }

        // The requester is gone; the upstream carries on.
        _upstream.Gate.SetResult();
        var stored = _origin.BlobDataPath(_layerDigest);
        for (var i = 0; i < 200 && !File.Exists(stored); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(stored), "the fill did not complete after its requester left");
        Assert.Equal(_layerDigest.Hex, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(stored))));
        using var again = await _origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}");
        Assert.Equal(_layer, await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, _upstream.Count("GET", BlobTail));
    }

    [Fact]
    public async Task Blob_CorruptedUpstream_NothingStored_ClientNeverGetsTheWholeBody()
    {
        _upstream.Corrupt = true;
        using var mismatches = new CounterProbe(_origin, "p2pregistry.origin.upstream.digest_mismatches");
        long received;
        bool failed;
        using (var response = await _origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            (received, failed) = await ResponseBodies.DrainAsync(response);
        }

        Assert.True(failed, "the connection should have been cut");
        Assert.True(received < _layer.Length, $"received {received} of {_layer.Length} bytes of a bad blob");
        Assert.Equal(1, mismatches.Total);
        Assert.False(File.Exists(_origin.BlobDataPath(_layerDigest)));
        Assert.Empty(Directory.GetFiles(Path.Combine(_origin.StoragePath, "uploads")));

        // Not cached: a second request asks the upstream again.
        _upstream.Corrupt = false;
        using var again = await _origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}");
        Assert.Equal(_layer, await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(2, _upstream.Count("GET", BlobTail));
    }

    [Fact]
    public async Task Blob_StoreFailsAfterTheDigestMatched_ClientGetsTheVerifiedBody_NothingKept()
    {
        // A file where the blob's directory goes: the commit into the store fails after the bytes hashed to the digest.
        var blobDirectory = Path.GetDirectoryName(_origin.BlobDataPath(_layerDigest))!;
        Directory.CreateDirectory(Path.GetDirectoryName(blobDirectory)!);
        await File.WriteAllBytesAsync(blobDirectory, [0]);
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var response = await _origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}", HttpCompletionOption.ResponseHeadersRead))
        {
            // Headers sent: the requester streams from the fill's file.
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            _upstream.Gate.SetResult();
            Assert.Equal(_layer, await response.Content.ReadAsByteArrayAsync());
        }

        // Once the fill ended (its temp file gone), nothing was stored.
        await Eventually.AssertAsync(() => Directory.GetFiles(Path.Combine(_origin.StoragePath, "uploads")).Length == 0, "the fill's temp file removed");
        Assert.False(File.Exists(_origin.BlobDataPath(_layerDigest)));

        // Not stored: once the store can take it, the next request fills it again.
        File.Delete(blobDirectory);
        using var again = await _origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}");
        Assert.Equal(_layer, await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(2, _upstream.Count("GET", BlobTail));
        await WaitStoredAsync(_layerDigest);
    }

    [Fact]
    public async Task Blob_Head_AsksTheUpstreamWithoutFilling()
    {
        using var head = await _origin.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/team/app/{BlobTail}{Ns}"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(_layer.Length, head.Content.Headers.ContentLength);
        Assert.Equal(_layerDigest.Value, head.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(1, _upstream.Count("HEAD", BlobTail));
        Assert.Equal(0, _upstream.Count("GET", BlobTail));
        Assert.Equal(0, _origin.Services.GetRequiredService<BlobFills>().Count);

        var unknown = Digest.Compute("nope"u8);
        using var missing = await _origin.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/team/app/blobs/{unknown.Value}{Ns}"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var missingGet = await _origin.Client.GetAsync($"/v2/team/app/blobs/{unknown.Value}{Ns}");
        Assert.Equal(HttpStatusCode.NotFound, missingGet.StatusCode);
        Assert.Contains("BLOB_UNKNOWN", await missingGet.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Blob_EmptyBodyForANonEmptyDigest_IsRefusedNotServed()
    {
        var claimed = Digest.Compute("not empty"u8);
        _upstream.Blobs[claimed.Value] = [];
        using var response = await _origin.Client.GetAsync($"/v2/team/app/blobs/{claimed.Value}{Ns}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(File.Exists(_origin.BlobDataPath(claimed)));

        var empty = Digest.Compute(ReadOnlySpan<byte>.Empty);
        _upstream.Blobs[empty.Value] = [];
        using var ok = await _origin.Client.GetAsync($"/v2/team/app/blobs/{empty.Value}{Ns}");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(0, ok.Content.Headers.ContentLength);
        Assert.True(File.Exists(_origin.BlobDataPath(empty)));
    }

    [Fact]
    public async Task Manifest_UpstreamAnnouncesAnotherDigest_NothingStored_503()
    {
        _upstream.LieAboutManifestDigest = true;
        using var mismatches = new CounterProbe(_origin, "p2pregistry.origin.upstream.digest_mismatches");
        using var response = await _origin.Client.GetAsync($"/v2/team/app/manifests/v1{Ns}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, mismatches.Total);
        Assert.False(File.Exists(_origin.BlobDataPath(_manifestDigest)));
    }

    [Fact]
    public async Task Blob_HeadDuringAFill_JoinsIt_NoUpstreamHead_OneFillStarted()
    {
        using var fills = new CounterProbe(_origin, "p2pregistry.origin.upstream.fills.started");
        using var requests = new CounterProbe(_origin, "p2pregistry.origin.upstream.requests");
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var get = await _origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}", HttpCompletionOption.ResponseHeadersRead);
        using var head = await _origin.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/team/app/{BlobTail}{Ns}"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(_layer.Length, head.Content.Headers.ContentLength);
        Assert.Equal(0, _upstream.Count("HEAD", BlobTail));
        _upstream.Gate.SetResult();
        Assert.Equal(_layer, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, fills.Total);
        Assert.Equal(1, requests.Total);
    }
}

using System.Net;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Tests.Upstream;

/// <summary>
/// The origin's own limits on pulling through: at most <c>Origin:MaxConcurrentFills</c> fills (the next one waits
/// <c>FillQueueTimeout</c>, then 503 with Retry-After), and upstream 404s answered from memory for a while.
/// </summary>
public sealed class PullThroughLimitsTests : IAsyncLifetime
{
    private const string Ns = "?ns=fake.registry%3A5000";
    private FakeUpstream _upstream = null!;
    private byte[] _layer = null!;
    private byte[] _config = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _layer = OriginServer.RandomBytes(2 * 1024 * 1024 + 5, 31);
        _config = OriginServer.RandomBytes(4096, 32);
        _upstream.AddImage("team/app", "v1", _layer, _config);
    }

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task FillsBeyondTheCap_Answer503WithRetryAfter_AndReachTheUpstreamOnlyOnceASlotIsFree()
    {
        await using var origin = await OriginServer.StartAsync(_upstream.OriginArguments("--Origin:MaxConcurrentFills=1", "--Origin:FillQueueTimeout=00:00:01"));
        var layer = Digest.Compute(_layer);
        var config = Digest.Compute(_config);
        _upstream.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The first fill takes the only slot and is held half way by the upstream.
        using var first = await origin.Client.GetAsync($"/v2/team/app/blobs/{layer.Value}{Ns}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using (var refused = await origin.Client.GetAsync($"/v2/team/app/blobs/{config.Value}{Ns}"))
        {
            await OriginServer.AssertErrorAsync(refused, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }

        Assert.Equal(0, _upstream.Count("GET", $"blobs/{config.Value}"));

        // A second requester of the fill in progress joins it: no slot needed.
        using (var joined = await origin.Client.GetAsync($"/v2/team/app/blobs/{layer.Value}{Ns}", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
            _upstream.Gate.SetResult();
            Assert.Equal(_layer, await joined.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(_layer, await first.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, _upstream.Count("GET", $"blobs/{layer.Value}"));

        // The slot comes free when the fill ends (just after its last byte went out): retry within a bound.
        byte[]? body = null;
        for (var attempt = 0; attempt < 50 && body is null; attempt++)
        {
            using var retried = await origin.Client.GetAsync($"/v2/team/app/blobs/{config.Value}{Ns}");
            if (retried.StatusCode == HttpStatusCode.OK)
            {
                body = await retried.Content.ReadAsByteArrayAsync();
            }
            else
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, retried.StatusCode);
            }
        }

        Assert.Equal(_config, body);
    }

    [Fact]
    public async Task BlobRedirectToAnInternalAddress_Answers503_AndTheTargetIsNeverDialled()
    {
        // The target listens on 127.0.0.2 and counts connections: none may arrive.
        using var target = new System.Net.Sockets.TcpListener(new IPAddress([127, 0, 0, 2]), 0);
        target.Start();
        var port = ((IPEndPoint)target.LocalEndpoint).Port;
        _upstream.RedirectBlobsTo = new Uri($"http://127.0.0.2:{port}/cdn/blob");
        // Plain http is allowed here so that only the address rule is tested.
        await using var origin = await OriginServer.StartAsync(_upstream.OriginArguments("--Origin:Upstreams:0:AllowInsecureRedirects=true"));

        using var response = await origin.Client.GetAsync($"/v2/team/app/blobs/{Digest.Compute(_layer).Value}{Ns}");

        await OriginServer.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
        Assert.Contains("127.0.0.2", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(target.Pending());
    }

    [Fact]
    public async Task MissingManifestAndBlob_RequestedTwentyTimes_AskTheUpstreamOnce()
    {
        await using var origin = await OriginServer.StartAsync(_upstream.OriginArguments());
        var missingBlob = Digest.Compute("not there"u8).Value;
        for (var i = 0; i < 20; i++)
        {
            using var manifest = await origin.Client.GetAsync($"/v2/team/app/manifests/nope{Ns}");
            await OriginServer.AssertErrorAsync(manifest, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
            using var blob = await origin.Client.GetAsync($"/v2/team/app/blobs/{missingBlob}{Ns}");
            await OriginServer.AssertErrorAsync(blob, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
            using var head = await origin.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/team/app/blobs/{missingBlob}{Ns}"));
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }

        Assert.Equal(1, _upstream.Count("HEAD", "manifests/nope") + _upstream.Count("GET", "manifests/nope"));
        Assert.Equal(1, _upstream.Count("HEAD", $"blobs/{missingBlob}") + _upstream.Count("GET", $"blobs/{missingBlob}"));

        // The same name in another repository is another question.
        using var other = await origin.Client.GetAsync($"/v2/team/other/manifests/nope{Ns}");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(2, _upstream.Count("HEAD", "manifests/nope") + _upstream.Count("GET", "manifests/nope"));
    }

    [Fact]
    public async Task NegativeCacheOff_EveryRequestForAMissingManifestAsksTheUpstream()
    {
        await using var origin = await OriginServer.StartAsync(_upstream.OriginArguments("--Origin:UpstreamNotFoundCacheTime=00:00:00"));
        for (var i = 0; i < 5; i++)
        {
            using var manifest = await origin.Client.GetAsync($"/v2/team/app/manifests/gone{Ns}");
            Assert.Equal(HttpStatusCode.NotFound, manifest.StatusCode);
        }

        Assert.Equal(5, _upstream.Count("HEAD", "manifests/gone") + _upstream.Count("GET", "manifests/gone"));
    }
}

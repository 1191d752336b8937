using System.Net;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Agent.Tests.Blobs;

/// <summary>
/// Blobs no origin holds yet (the tracker has no MetaInfo): the agent streams them from the origin, which pulls
/// them through from the upstream <c>ns</c> names, then caches and seeds them like a swarm download.
/// </summary>
public sealed class OriginStreamTests : IAsyncLifetime
{
    private const string Upstream = "upstream.example:5000";
    private readonly TempDirectory _dir = new("agent-origin-stream");
    private readonly FakeTracker _tracker = new();
    private readonly FakeMetaInfoSource _metaInfos = new();
    private FakeOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await FakeOrigin.StartAsync();

    public async Task DisposeAsync()
    {
        await _origin.DisposeAsync();
        _dir.Dispose();
    }

    // These agents must serve, not fall back: with every test assembly running at once, the default 1 s miss budget
    // (tracker, then the origin) can run out. A miss the origin answers is fast whatever the budget (last test).
    private Task<TestAgent> StartAgentAsync(string name = "agent", params string[] settings) =>
        TestAgent.StartAsync(_dir.Combine(name), _metaInfos, _tracker, _origin.Url, ["--Agent:MissTimeout=00:00:10", .. settings]);

    private async Task<TestBlob> AddBlobAsync(int length, byte[]? served = null)
    {
        var blob = await TestBlob.CreateAsync(length, PieceLength.For(length), seed: length);
        _origin.Manifests[$"lib/img/blobs/{blob.Digest}"] = (served ?? blob.Content, "application/octet-stream");
        return blob;
    }

    [Fact]
    public async Task ColdBlobNoOriginHolds_StreamsFromTheOriginWithNsAndName_ThenIsCachedAndSeededUnderTheOriginsInfoHash()
    {
        var blob = await AddBlobAsync(3 * 1024 * 1024 + 5);
        await using var agent = await StartAgentAsync();

        var bytes = await agent.Client.GetByteArrayAsync($"/v2/lib/img/blobs/{blob.Digest}?ns={Upstream}");

        Assert.Equal(blob.Content, bytes);
        Assert.Contains($"/v2/lib/img/blobs/{blob.Digest}?ns={Uri.EscapeDataString(Upstream)}", _origin.Requests);
        Assert.Equal(Upstream, _metaInfos.Namespaces.Single());
        // Cached, then seeded (in that order, a moment apart) under the info hash the origin computes for the same
        // bytes, so later agents find it in the swarm.
        await Eventually.AssertAsync(() => agent.Cache.Contains(blob.Digest) && agent.Engine.GetStatistics(blob.MetaInfo.InfoHash) is not null);
        Assert.Equal(blob.Content, await File.ReadAllBytesAsync(agent.Cache.PathOf(blob.Digest)));
        Assert.NotNull(agent.Engine.GetStatistics(blob.MetaInfo.InfoHash));
        Assert.Equal(blob.MetaInfo.Encoded.ToArray(), await File.ReadAllBytesAsync(Path.Combine(agent.DataPath, "metainfo", blob.Digest.Hex)));
        Assert.Empty(Directory.GetFiles(Path.Combine(agent.DataPath, "download")));

        // Served from the cache now: the origin is not asked again.
        var before = _origin.Requests.Count;
        Assert.Equal(blob.Content, await agent.Client.GetByteArrayAsync($"/v2/lib/img/blobs/{blob.Digest}?ns={Upstream}"));
        Assert.Equal(before, _origin.Requests.Count);
    }

    [Fact]
    public async Task ConcurrentClients_ShareOneOriginRequest()
    {
        var blob = await AddBlobAsync(2 * 1024 * 1024);
        _origin.BytesPerSecond = 4 * 1024 * 1024;
        await using var agent = await StartAgentAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => agent.Client.GetByteArrayAsync($"/v2/lib/img/blobs/{blob.Digest}?ns={Upstream}")));

        Assert.All(responses, r => Assert.Equal(blob.Content, r));
        Assert.Single(_origin.Requests, r => r.Contains(blob.Digest.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task FirstBytesArriveWhileTheOriginIsStillSending_AndARangeIsServedFromTheStream()
    {
        // 4 MiB at 1 MiB/s: about four seconds.
        var blob = await AddBlobAsync(4 * 1024 * 1024);
        _origin.BytesPerSecond = 1024 * 1024;
        await using var agent = await StartAgentAsync();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await agent.Client.GetAsync($"/v2/lib/img/blobs/{blob.Digest}?ns={Upstream}", HttpCompletionOption.ResponseHeadersRead);
        var headers = clock.Elapsed;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob.Content.Length, response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[128 * 1024];
        await body.ReadExactlyAsync(first);
        var fetch = agent.Fetcher.Find(blob.Digest);
        Assert.True(fetch is not null, $"headers after {headers}, first bytes after {clock.Elapsed}");
        Assert.False((await fetch.Started).IsComplete, "the whole blob was there before the first bytes were sent");
        Assert.Equal(blob.Content.AsSpan(0, first.Length).ToArray(), first);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/lib/img/blobs/{blob.Digest}?ns={Upstream}");
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(3 * 1024 * 1024, null);
        using var ranged = await agent.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode);
        Assert.Equal($"bytes {3 * 1024 * 1024}-{blob.Content.Length - 1}/{blob.Content.Length}", ranged.Content.Headers.ContentRange!.ToString());
        Assert.Equal(blob.Content.AsSpan(3 * 1024 * 1024).ToArray(), await ranged.Content.ReadAsByteArrayAsync());

        var rest = new MemoryStream();
        await body.CopyToAsync(rest);
        Assert.Equal(blob.Content.AsSpan(first.Length).ToArray(), rest.ToArray());
        Assert.Single(_origin.Requests, r => r.Contains(blob.Digest.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task OriginSendsBytesOfAnotherDigest_ClientNeverGetsTheWholeBody_NothingCached_MismatchLogged()
    {
        var real = await TestBlob.CreateAsync(1024 * 1024, PieceLength.Min, seed: 7);
        var tampered = (byte[])real.Content.Clone();
        tampered[^10] ^= 0xFF;
        _origin.Manifests[$"lib/img/blobs/{real.Digest}"] = (tampered, "application/octet-stream");
        await using var agent = await StartAgentAsync();

        var received = 0L;
        var broken = true;
        try
        {
            using var response = await agent.Client.GetAsync($"/v2/lib/img/blobs/{real.Digest}?ns={Upstream}", HttpCompletionOption.ResponseHeadersRead);
            (received, broken) = await P2PRegistry.Testing.Http.ResponseBodies.DrainAsync(response);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // Cut before the headers.
        }

        Assert.True(broken || received < real.Content.Length, $"the client got a complete body ({received} bytes) of a blob that does not hash to its digest");
        Assert.True(received < real.Content.Length);
        Assert.False(agent.Cache.Contains(real.Digest));
        Assert.Contains(agent.Logs.Entries, e => e.Id.Id == 11 && e.Message.Contains(real.Digest.Value, StringComparison.Ordinal));
        await Eventually.AssertAsync(() => Directory.GetFiles(Path.Combine(agent.DataPath, "download")).Length == 0);
    }

    [Fact]
    public async Task OriginHasNoSuchBlob_Is404Fast()
    {
        await using var agent = await StartAgentAsync();
        var digest = Digest.Compute("nowhere"u8);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await agent.Client.GetAsync($"/v2/lib/img/blobs/{digest}?ns={Upstream}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("BLOB_UNKNOWN", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains(_origin.Requests, r => r.Contains(digest.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Head_OnABlobOnlyTheOriginCanPullThrough_IsItsLength_AndStartsNoDownload()
    {
        var blob = await AddBlobAsync(1024 * 1024 + 3);
        await using var agent = await StartAgentAsync();

        using var head = await agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/lib/img/blobs/{blob.Digest}?ns={Upstream}"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(blob.Content.Length, head.Content.Headers.ContentLength);
        Assert.Null(agent.Fetcher.Find(blob.Digest));
        Assert.Empty(Directory.GetFiles(Path.Combine(agent.DataPath, "download")));

        using var unknown = await agent.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/lib/img/blobs/{Digest.Compute("none"u8)}?ns={Upstream}"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task BlobLargerThanTheWholeCache_Is404_NotDownloaded()
    {
        var blob = await AddBlobAsync(3 * 1024 * 1024);
        await using var agent = await StartAgentAsync("small", "--Agent:CacheCapacityBytes=2097152");

        using var response = await agent.Client.GetAsync($"/v2/lib/img/blobs/{blob.Digest}?ns={Upstream}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("more than the whole cache", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(agent.DataPath, "download")));
    }
}

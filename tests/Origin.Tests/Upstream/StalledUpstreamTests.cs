using System.Net;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Upstream;

namespace P2PRegistry.Origin.Tests.Upstream;

/// <summary>
/// Upstreams that accept the connection and then hang (before headers or mid-body): a fill fails on its own
/// short timeouts and is forgotten, and a cached tag is served while the agent is still waiting for it.
/// </summary>
public sealed class StalledUpstreamTests : IAsyncLifetime
{
    private const string Ns = "?ns=fake.registry%3A5000";

    // The agent gives up on a manifest after 30 s; requests here give up a little before that.
    private static readonly TimeSpan AgentPatience = TimeSpan.FromSeconds(25);

    private FakeUpstream _upstream = null!;
    private OriginServer? _origin;
    private byte[] _layer = null!;
    private Digest _layerDigest;
    private Digest _manifestDigest;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _layer = OriginServer.RandomBytes(2 * 1024 * 1024 + 5, 11);
        _layerDigest = Digest.Compute(_layer);
        (_manifestDigest, _) = _upstream.AddImage("team/app", "v1", _layer, OriginServer.RandomBytes(200, 12));
    }

    public async Task DisposeAsync()
    {
        if (_origin is not null)
        {
            await _origin.DisposeAsync();
        }

        await _upstream.DisposeAsync();
    }

    private string BlobTail => $"blobs/{_layerDigest.Value}";

    private async Task<OriginServer> StartOriginAsync(params string[] settings) =>
        _origin = await OriginServer.StartAsync(_upstream.OriginArguments(settings));

    [Fact]
    public async Task Blob_UpstreamSilentBeforeHeaders_503AfterUpstreamTimeout_NextRequestStartsAFreshFill()
    {
        var origin = await StartOriginAsync("--Origin:UpstreamTimeout=00:00:01", "--Origin:RevalidationTimeout=00:00:01");
        using var failed = new CounterProbe(origin, "p2pregistry.origin.upstream.fills.failed");
        _upstream.StallHeaders = true;
        using (var patience = new CancellationTokenSource(AgentPatience))
        using (var stalled = await origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}", patience.Token))
        {
            await OriginServer.AssertErrorAsync(stalled, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
        }

        Assert.Equal(1, failed.Total);
        Assert.Equal(0, origin.Services.GetRequiredService<BlobFills>().Count);

        _upstream.StallHeaders = false;
        using var again = await origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(_layer, await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(2, _upstream.Count("GET", BlobTail));
    }

    [Fact]
    public async Task Blob_UpstreamBodyStalls_FillFailsAfterIdleTimeout_ClientCut_NextRequestStartsAFreshFill()
    {
        var origin = await StartOriginAsync("--Origin:UpstreamIdleTimeout=00:00:01");
        using var failed = new CounterProbe(origin, "p2pregistry.origin.upstream.fills.failed");
        _upstream.StallBody = true;
        using var patience = new CancellationTokenSource(AgentPatience);
        var received = 0L;
        var cut = false;
        using (var stalled = await origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}", HttpCompletionOption.ResponseHeadersRead, patience.Token))
        {
            Assert.Equal(HttpStatusCode.OK, stalled.StatusCode);
            var stream = await stalled.Content.ReadAsStreamAsync(patience.Token);
            var buffer = new byte[64 * 1024];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, patience.Token)) > 0)
                {
                    received += read;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                cut = true;
            }
        }

        Assert.True(cut, "the requester of a stalled fill should have its connection cut");
        Assert.True(received < _layer.Length);
        Assert.Equal(1, failed.Total);
        Assert.Equal(0, origin.Services.GetRequiredService<BlobFills>().Count);
        Assert.Empty(Directory.GetFiles(Path.Combine(origin.StoragePath, "uploads"), "fill-*"));

        _upstream.StallBody = false;
        using var again = await origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}");
        Assert.Equal(_layer, await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(2, _upstream.Count("GET", BlobTail));
    }

    [Fact]
    public async Task Blob_FillTempFileVanishes_JoiningGetIs503Not500()
    {
        var origin = await StartOriginAsync("--Origin:UpstreamIdleTimeout=00:00:01");
        _upstream.StallBody = true;
        using var patience = new CancellationTokenSource(AgentPatience);
        using var first = await origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}", HttpCompletionOption.ResponseHeadersRead, patience.Token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        // The moment a failing fill deletes its file while a requester that already knows the length opens it.
        var temp = Assert.Single(Directory.GetFiles(Path.Combine(origin.StoragePath, "uploads"), "fill-*"));
        File.Delete(temp);
        using var joining = await origin.Client.GetAsync($"/v2/team/app/{BlobTail}{Ns}", patience.Token);
        await OriginServer.AssertErrorAsync(joining, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
    }

    [Fact]
    public async Task Manifest_UpstreamHangs_CachedTagServedBeforeTheAgentGivesUp()
    {
        // UpstreamTimeout beyond the agent's patience: only RevalidationTimeout can bring the cached tag in time.
        var origin = await StartOriginAsync("--Origin:UpstreamTimeout=00:01:00", "--Origin:RevalidationTimeout=00:00:01");
        using (var warm = await origin.Client.GetAsync($"/v2/team/app/manifests/v1{Ns}"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        _upstream.StallHeaders = true;
        using var patience = new CancellationTokenSource(AgentPatience);
        using var cached = await origin.Client.GetAsync($"/v2/team/app/manifests/v1{Ns}", patience.Token);
        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        Assert.Equal(_manifestDigest.Value, cached.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(2, _upstream.Count("HEAD", "manifests/v1"));
    }

    [Fact]
    public void Defaults_AnswerWellWithinTheAgentsManifestTimeout()
    {
        var options = new OriginOptions();
        Assert.Equal(TimeSpan.FromSeconds(10), options.UpstreamTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), options.RevalidationTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.UpstreamIdleTimeout);
        Assert.True(options.UpstreamTimeout < AgentPatience);
    }
}

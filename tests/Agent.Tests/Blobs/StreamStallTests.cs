using System.Diagnostics;
using System.Net;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Agent.Tests.Blobs;

/// <summary>
/// <c>Agent:StreamStallTimeout</c>: a client stream whose only source stops sending mid-blob is cut, so containerd
/// retries instead of hanging; a slow stream that keeps making progress is not.
/// </summary>
public sealed class StreamStallTests : IAsyncLifetime
{
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(2);
    private readonly TempDirectory _dir = new("agent-stall");
    private readonly FakeTracker _tracker = new();
    private readonly FakeMetaInfoSource _metaInfos = new();
    private FakeOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await FakeOrigin.StartAsync();

    public async Task DisposeAsync()
    {
        await _origin.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task OnlyPeerStopsSendingMidBlob_ClientStreamIsCutAfterTheStallTimeout_LoggedAndCounted()
    {
        var blob = await TestBlob.CreateAsync(4 * 1024 * 1024, 256 * 1024);
        blob.InstallInto(_dir.Combine("seed"));
        _metaInfos.Add(blob.MetaInfo);
        await using var seed = await TestAgent.StartAsync(_dir.Combine("seed"), _metaInfos, _tracker);
        await Eventually.AssertAsync(() => _tracker.Seeds(blob.MetaInfo.InfoHash) > 0);

        // The agent's only source is the seed behind a relay that passes on its first 2 MiB and then nothing, with
        // the connection left open.
        await using var proxy = new StallingProxy(new IPEndPoint(IPAddress.Loopback, seed.Engine.ListenPort), budget: 2 * 1024 * 1024);
        await using var agent = await TestAgent.StartAsync(_dir.Combine("agent"), _metaInfos, new OnePeerTracker(proxy.EndPoint), settings:
        [
            $"--Agent:StreamStallTimeout={StallTimeout}",
            "--Agent:MissTimeout=00:00:10",
            "--Agent:SourceTimeout=00:00:30",
        ]);
        using var client = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };

        var clock = Stopwatch.StartNew();
        var read = ReadAsync(client, $"/v2/test/img/blobs/{blob.Digest}");
        await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(read.IsCompleted, "the client was still waiting for the rest of the blob after 60 s");
        var ended = clock.Elapsed;
        var (received, failure) = await read;

        Assert.True(proxy.Stalled, "the relay passed the whole blob on");
        Assert.True(failure is HttpRequestException or IOException, $"the stream ended without an error after {received} bytes: {failure}");
        Assert.InRange(received, 1, blob.Content.Length - 1);
        Assert.True(ended >= StallTimeout, $"cut after {ended}, before the stall timeout");
        Assert.True(agent.Logs.Contains(14, blob.Digest.Value), "the stall was not logged");
        Assert.False(agent.Logs.Contains(7), "the stream failed for another reason than the stall");
        Assert.Contains("p2pregistry_agent_streams_stalled", await agent.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowStreamThatKeepsProgressing_IsNotCut()
    {
        // 3 MiB at 512 KiB/s from the origin: about six seconds, three times the stall timeout, in 64 KiB steps.
        var blob = await TestBlob.CreateAsync(3 * 1024 * 1024, PieceLength.For(3 * 1024 * 1024), seed: 11);
        _origin.Manifests[$"lib/img/blobs/{blob.Digest}"] = (blob.Content, "application/octet-stream");
        _origin.BytesPerSecond = 512 * 1024;
        await using var agent = await TestAgent.StartAsync(_dir.Combine("slow"), _metaInfos, _tracker, _origin.Url,
            $"--Agent:StreamStallTimeout={StallTimeout}", "--Agent:MissTimeout=00:00:10");
        using var client = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };

        var clock = Stopwatch.StartNew();
        var (received, failure) = await ReadAsync(client, $"/v2/lib/img/blobs/{blob.Digest}?ns=upstream.example").WaitAsync(TimeSpan.FromSeconds(120));

        Assert.Null(failure);
        Assert.Equal(blob.Content.Length, received);
        Assert.True(clock.Elapsed > StallTimeout, $"the stream took {clock.Elapsed}: not slow enough to show anything");
        Assert.False(agent.Logs.Contains(14), "a progressing stream was cut as stalled");
    }

    /// <summary>GETs a blob and reads its body to the end or to an error: the bytes received, and the error.</summary>
    private static async Task<(long Received, Exception? Failure)> ReadAsync(HttpClient client, string uri)
    {
        var received = 0L;
        try
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                received += read;
            }

            return (received, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return (received, ex);
        }
    }

    /// <summary>Hands out one peer, whoever asks.</summary>
    private sealed class OnePeerTracker(IPEndPoint peer) : ITrackerClient
    {
        public Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken) =>
            Task.FromResult(new AnnounceResult([new TrackerPeer(peer)], TimeSpan.FromSeconds(1)));
    }
}

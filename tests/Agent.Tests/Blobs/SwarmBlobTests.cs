using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Agent.Tests.Blobs;

/// <summary>Blob misses through a real swarm: a seed agent (blob installed in its cache) and the agent under test.</summary>
public sealed class SwarmBlobTests : IDisposable
{
    private readonly TempDirectory _dir = new("agent-swarm");
    private readonly FakeTracker _tracker = new();
    private readonly FakeMetaInfoSource _metaInfos = new();

    public void Dispose() => _dir.Dispose();

    private async Task<(TestBlob Blob, TestAgent Seed)> StartSeedAsync(int length, int pieceLength, long egress = 0, byte[]? actualContent = null)
    {
        var blob = await TestBlob.CreateAsync(length, pieceLength);
        var seedPath = _dir.Combine("seed");
        blob.InstallInto(seedPath, actualContent);
        _metaInfos.Add(blob.MetaInfo);
        var seed = await TestAgent.StartAsync(seedPath, _metaInfos, _tracker, settings: $"--Agent:EgressBytesPerSecond={egress}");

        // The seed announces itself in the background; a leecher asking before that would find nobody to ask.
        await Eventually.AssertAsync(() => _tracker.Seeds(blob.MetaInfo.InfoHash) > 0);
        return (blob, seed);
    }

    private Task<TestAgent> StartAgentAsync(string name = "agent", params string[] settings) =>
        TestAgent.StartAsync(_dir.Combine(name), _metaInfos, _tracker, settings: settings);

    [Fact]
    public async Task ColdBlob_ComesFromThePeer_IsCached_ThenServedFromCacheAndSeeded()
    {
        var (blob, seed) = await StartSeedAsync(3 * 1024 * 1024 + 17, 256 * 1024);
        await using var _ = seed;
        await using var agent = await StartAgentAsync();

        var bytes = await agent.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blob.Digest}?ns=docker.io");
        Assert.Equal(blob.Content, bytes);
        Assert.Equal("docker.io", _metaInfos.Namespaces.Last());

        await Eventually.AssertAsync(() => agent.Cache.Contains(blob.Digest));
        Assert.Equal(blob.Content, await File.ReadAllBytesAsync(agent.Cache.PathOf(blob.Digest)));
        Assert.Equal(blob.Content, await agent.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blob.Digest}"));
        Assert.Empty(Directory.GetFiles(Path.Combine(agent.DataPath, "download")));
        Assert.NotNull(agent.Engine.GetStatistics(blob.MetaInfo.InfoHash));
        var metrics = await agent.Client.GetStringAsync("/metrics");
        Assert.Contains("p2pregistry_agent_bytes_from_peers", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentMisses_ShareOneDownload()
    {
        var (blob, seed) = await StartSeedAsync(2 * 1024 * 1024, 256 * 1024, egress: 4 * 1024 * 1024);
        await using var _ = seed;
        await using var agent = await StartAgentAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => agent.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blob.Digest}")));
        Assert.All(responses, r => Assert.Equal(blob.Content, r));
        Assert.Equal(1, _metaInfos.Calls - 0 /* the seed never asks */);
        Assert.Equal(1, agent.Logs.Entries.Count(e => e.Id.Id == 4 && e.Category.EndsWith("BlobFetcher", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ColdBlob_FirstBytesArriveBeforeTheDownloadCompletes()
    {
        // 4 MiB at 1 MiB/s from the only seed: about four seconds of download.
        var (blob, seed) = await StartSeedAsync(4 * 1024 * 1024, 256 * 1024, egress: 1024 * 1024);
        await using var _ = seed;
        await using var agent = await StartAgentAsync();

        using var response = await agent.Client.GetAsync($"/v2/test/img/blobs/{blob.Digest}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob.Content.Length, response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[64 * 1024];
        await body.ReadExactlyAsync(first);
        var fetch = agent.Fetcher.Find(blob.Digest);
        Assert.NotNull(fetch);
        Assert.False((await fetch.Started).IsComplete, "the whole blob was there before the first bytes were sent");
        Assert.Equal(blob.Content.AsSpan(0, first.Length).ToArray(), first);

        using var rest = new MemoryStream();
        await body.CopyToAsync(rest);
        Assert.Equal(blob.Content.AsSpan(first.Length).ToArray(), rest.ToArray());
    }

    [Fact]
    public async Task DownloadCompletes_ItsSwarmGoesOnSeeding_APeerStillFetchingKeepsItsConnection()
    {
        // 3 MiB from a seed sending 1 MiB/s; agent B takes at most 256 KiB/s, so it is still fetching when A completes.
        var (blob, seed) = await StartSeedAsync(3 * 1024 * 1024, 256 * 1024, egress: 1024 * 1024);
        await using var _ = seed;
        await using var a = await StartAgentAsync("a");
        await using var b = await StartAgentAsync("b", "--Agent:IngressBytesPerSecond=262144");
        using var stopB = new CancellationTokenSource();

        var getB = b.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blob.Digest}", stopB.Token);
        var getA = a.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blob.Digest}");
        await Eventually.AssertAsync(() => a.Fetcher.Find(blob.Digest)?.Started.IsCompletedSuccessfully == true);
        var handle = Assert.IsType<SwarmBlobDownload>(await a.Fetcher.Find(blob.Digest)!.Started).Handle;
        Assert.Equal(blob.Content, await getA);
        await Eventually.AssertAsync(() => a.Cache.Contains(blob.Digest));

        // A moved the file into its cache and kept the swarm: no "stopped" announce, the same swarm (it counts the
        // whole download), and B, still fetching, still connected to it (the seed's session closes: both complete).
        await Task.Delay(500);
        Assert.False(getB.IsCompleted, "B finished before A; the test needs it still fetching");
        Assert.Equal(0, _tracker.Stopped(blob.MetaInfo.InfoHash));
        Assert.Same(handle.Statistics, a.Engine.GetStatistics(blob.MetaInfo.InfoHash));
        Assert.Equal(blob.Content.Length, handle.Statistics.BytesDownloaded);
        Assert.Equal(1, handle.PeerCount);
        await stopB.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => getB);
    }

    [Fact]
    public async Task RangeOnColdBlob_Is206WithTheRightBytes()
    {
        var (blob, seed) = await StartSeedAsync(3 * 1024 * 1024, 256 * 1024);
        await using var _ = seed;
        await using var agent = await StartAgentAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/test/img/blobs/{blob.Digest}");
        request.Headers.TryAddWithoutValidation("Range", "bytes=1000000-1999999");
        using var response = await agent.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes 1000000-1999999/{blob.Content.Length}", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal(blob.Content.AsSpan(1_000_000, 1_000_000).ToArray(), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Restart_ResumesWithoutRefetchingVerifiedPieces()
    {
        const int pieceLength = 256 * 1024;
        var (blob, seed) = await StartSeedAsync(8 * 1024 * 1024, pieceLength);
        await using var _ = seed;

        // The first run downloads at 1 MiB/s and is stopped a few pieces in.
        int verifiedBefore;
        await using (var first = await StartAgentAsync("resumer", "--Agent:IngressBytesPerSecond=1048576"))
        {
            using var response = await first.Client.GetAsync($"/v2/test/img/blobs/{blob.Digest}", HttpCompletionOption.ResponseHeadersRead);
            Assert.True(response.StatusCode == HttpStatusCode.OK, response.StatusCode + " " + string.Join("\n", first.Logs.Entries.Select(e => e.Category + " " + e.Id + " " + e.Message)));
            await using var body = await response.Content.ReadAsStreamAsync();
            await body.ReadExactlyAsync(new byte[3 * pieceLength]);
            var handle = ((P2PRegistry.Agent.Blobs.SwarmBlobDownload)await first.Fetcher.Find(blob.Digest)!.Started).Handle;
            Assert.False(handle.IsComplete);
            verifiedBefore = handle.VerifiedPieces;
            Assert.True(verifiedBefore >= 3, $"only {verifiedBefore} pieces verified");
        }

        await using var second = await StartAgentAsync("resumer");
        Assert.Equal(blob.Content, await second.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blob.Digest}"));
        await Eventually.AssertAsync(() => second.Logs.Contains(5));
        var downloaded = second.Logs.Entries.First(e => e.Id.Id == 5 && e.Category.EndsWith("BlobFetcher", StringComparison.Ordinal)).Message;

        // "Cached <digest>: <peers> bytes from peers, <origins> from origins": no more than the missing pieces.
        var fromPeers = long.Parse(downloaded.Split(": ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(fromPeers <= blob.Content.Length - (long)verifiedBefore * pieceLength,
            $"{fromPeers} bytes fetched after the restart, though {verifiedBefore} pieces were verified before it");
        Assert.True(second.Cache.Contains(blob.Digest));
    }

    [Fact]
    public async Task BlobNotHashingToItsDigest_IsNeverSentWhole_ConnectionAborted()
    {
        const int length = 1024 * 1024;
        var impostor = new byte[length];
        new Random(99).NextBytes(impostor);

        // The MetaInfo names the digest of the real content, but its piece hashes describe the impostor: every
        // piece verifies, the whole blob does not.
        var real = await TestBlob.CreateAsync(length, 256 * 1024);
        using var stream = new MemoryStream(impostor);
        var lying = await Core.MetaInfos.MetaInfo.ComputeAsync(real.Digest, stream, length, 256 * 1024);
        var blob = new TestBlob(real.Content, real.Digest, lying);
        var seedPath = _dir.Combine("seed");
        blob.InstallInto(seedPath, impostor);
        _metaInfos.Add(lying);
        await using var seed = await TestAgent.StartAsync(seedPath, _metaInfos, _tracker);
        await using var agent = await StartAgentAsync();

        var received = 0L;
        var failed = true;
        try
        {
            using var response = await agent.Client.GetAsync($"/v2/test/img/blobs/{blob.Digest}", HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                (received, failed) = await P2PRegistry.Testing.Http.ResponseBodies.DrainAsync(response);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // Cut before the headers: failed stays true.
        }

        Assert.True(failed, $"the response ended cleanly after {received} bytes");
        Assert.True(received < length);
        Assert.False(agent.Cache.Contains(blob.Digest));
    }

    [Fact]
    public async Task TrackerDown_BlobIs404Fast_AndLogged()
    {
        // Real gRPC client against a port nobody listens on.
        await using var agent = await TestAgent.StartAsync(_dir.Combine("lonely"));
        await AssertFastMissAsync(agent);
    }

    [Fact]
    public async Task TrackerHangs_BlobIs404Fast_AndLogged()
    {
        _metaInfos.Fault = ct => Task.Delay(Timeout.Infinite, ct);
        await using var agent = await StartAgentAsync();
        await AssertFastMissAsync(agent);
    }

    [Fact]
    public async Task NoPeerServesIt_BlobIs404Fast_AndLogged()
    {
        var blob = await TestBlob.CreateAsync(1024 * 1024, 256 * 1024);
        _metaInfos.Add(blob.MetaInfo);
        await using var agent = await StartAgentAsync();
        await AssertFastMissAsync(agent, blob.Digest.Value);
        await Eventually.AssertAsync(() => agent.Fetcher.ActiveCount == 0);
    }

    [Fact]
    public async Task PeersHandedOutButNoneConnects_WaitsTheSourceTimeout_Then404()
    {
        var blob = await TestBlob.CreateAsync(1024 * 1024, 256 * 1024);
        _metaInfos.Add(blob.MetaInfo);
        await using var agent = await TestAgent.StartAsync(_dir.Combine("patient"), _metaInfos, new DeadPeerTracker(),
            settings: ["--Agent:SourceTimeout=00:00:03"]);

        var clock = Stopwatch.StartNew();
        using var response = await agent.Client.GetAsync($"/v2/test/img/blobs/{blob.Digest}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.8), $"gave up after {clock.Elapsed} although the tracker had handed out a peer: " + string.Join("\n", agent.Logs.Entries.Select(e => e.Category + " " + e.Id + " " + e.Message)));
        Assert.True(agent.Logs.Contains(3, "no peer connected within 3 s"), "the reason was not logged");
    }

    [Fact]
    public async Task MetaInfoSlow_TrackerReachable_WaitedFor_NoFastMiss_TheBlobIsServed()
    {
        var (blob, seed) = await StartSeedAsync(1024 * 1024, 256 * 1024);
        await using var _ = seed;

        // The tracker answers its probe at once but takes 2.5 s over the MetaInfo (it asks a busy origin): longer than
        // the 1 s miss timeout, yet a source exists and its answer is on the way.
        _metaInfos.Fault = ct => Task.Delay(TimeSpan.FromSeconds(2.5), ct);
        var probe = new FakeTrackerProbe(answers: true);
        await using var agent = await TestAgent.StartAsync(_dir.Combine("patient-metainfo"), _metaInfos, _tracker, originUrl: null, probe, "--Agent:MissTimeout=00:00:01", "--Agent:SourceTimeout=00:00:20");
        await Eventually.AssertAsync(() => probe.Probes > 0 && agent.Services.GetRequiredService<P2PRegistry.Agent.Tracking.TrackerDirectory>().AnyReachable);

        using var response = await agent.Client.GetAsync($"/v2/test/img/blobs/{blob.Digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob.Content, await response.Content.ReadAsByteArrayAsync());
        Assert.False(agent.Logs.Contains(3, "blob"), "a fast miss was logged");
    }

    [Fact]
    public async Task AnnounceSlow_TrackerReachable_WaitedFor_NoFastMiss_TheBlobIsServed()
    {
        var (blob, seed) = await StartSeedAsync(1024 * 1024, 256 * 1024);
        await using var _ = seed;

        // The MetaInfo comes at once, the announce that hands out the seed only after 2.5 s.
        _tracker.Fault = ct => Task.Delay(TimeSpan.FromSeconds(2.5), ct);
        var probe = new FakeTrackerProbe(answers: true);
        await using var agent = await TestAgent.StartAsync(_dir.Combine("patient-announce"), _metaInfos, _tracker, originUrl: null, probe, "--Agent:MissTimeout=00:00:01", "--Agent:SourceTimeout=00:00:20");
        await Eventually.AssertAsync(() => agent.Services.GetRequiredService<P2PRegistry.Agent.Tracking.TrackerDirectory>().AnyReachable);

        using var response = await agent.Client.GetAsync($"/v2/test/img/blobs/{blob.Digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob.Content, await response.Content.ReadAsByteArrayAsync());
        Assert.False(agent.Logs.Contains(3, "blob"), "a fast miss was logged");
    }

    [Fact]
    public async Task HeadMiss_TrackerReachableOnlyAfterTheHeadStarted_MetaInfoSlow_WaitedFor_TheLengthIsGiven()
    {
        var blob = await TestBlob.CreateAsync(1024 * 1024, 256 * 1024);
        _metaInfos.Add(blob.MetaInfo);

        // No tracker reachable when the HEAD arrives; one answers while the HEAD waits; the MetaInfo comes 1 s after the
        // 2 s miss timeout. The HEAD asks again when the miss timeout is over, as a GET does, and waits for it.
        var probe = new FakeTrackerProbe(answers: false);
        await using var agent = await TestAgent.StartAsync(_dir.Combine("head-reachable-later"), _metaInfos, _tracker, originUrl: null,
            probe, "--Agent:MissTimeout=00:00:02", "--Agent:SourceTimeout=00:00:30");
        await Eventually.AssertAsync(() => agent.Logs.Entries.Any(e => e.Id.Name == "WarmedUp")); // its MetaInfo request is over
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _metaInfos.Fault = async ct =>
        {
            asked.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
        };
        var trackers = agent.Services.GetRequiredService<P2PRegistry.Agent.Tracking.TrackerDirectory>();
        Assert.False(trackers.AnyReachable);

        using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/test/img/blobs/{blob.Digest}");
        var head = agent.Client.SendAsync(request);
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(30));
        probe.Answers = true;
        foreach (var endpoint in trackers.Current.Endpoints)
        {
            trackers.Health.Succeeded(endpoint.Url);
        }

        using var response = await head;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob.Content.Length, response.Content.Headers.ContentLength);
        Assert.False(agent.Logs.Contains(3, "blob"), "a fast miss was logged");
    }

    [Fact]
    public async Task MetaInfoSlow_NoTrackerReachable_404WithinTheMissTimeout()
    {
        _metaInfos.Fault = ct => Task.Delay(TimeSpan.FromSeconds(30), ct);
        await using var agent = await TestAgent.StartAsync(_dir.Combine("unreachable"), _metaInfos, _tracker, originUrl: null, new FakeTrackerProbe(answers: false));

        await AssertFastMissAsync(agent);
        Assert.True(agent.Logs.Contains(3, "no tracker reachable"), "the reason was not logged");
    }

    [Fact]
    public async Task MetaInfoInTime_DiskSlowToCreateTheDownload_NoMiss_TheBlobIsServed()
    {
        var (blob, seed) = await StartSeedAsync(1024 * 1024, 256 * 1024);
        await using var _ = seed;
        await using var agent = await StartAgentAsync("slow-disk", "--Agent:MissTimeout=00:00:01");

        // A disk that takes seconds to create the download's files: the resume state the download opens first is a
        // FIFO, and opening it blocks until this test opens the other end, well past the 1 s miss timeout.
        var path = Path.Combine(agent.DataPath, "download", blob.Digest.Hex);
        await File.WriteAllBytesAsync(path, []);
        var state = path + ".pieces";
        using (var mkfifo = Process.Start("mkfifo", new[] { state }))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var get = agent.Client.GetAsync($"/v2/test/img/blobs/{blob.Digest}");
        await Eventually.AssertAsync(() => agent.Logs.Contains(4, "Fetching"));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.False(get.IsCompleted, "the response came while the download's files were still being created");

        // The disk comes back: the FIFO is unlinked before its writer closes, so the reader sees no resume state
        // and the download creates an ordinary file in its place.
        await using (var writer = new FileStream(state, FileMode.Open, FileAccess.Write))
        {
            File.Delete(state);
            writer.WriteByte(1);
        }

        using var response = await get;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob.Content, await response.Content.ReadAsByteArrayAsync());
        Assert.False(agent.Logs.Contains(3, "blob"), "a fast miss was logged");
    }

    /// <summary>Hands out one peer nobody listens for: a source that exists on paper and never connects.</summary>
    private sealed class DeadPeerTracker : P2PRegistry.Swarm.Tracking.ITrackerClient
    {
        private readonly int _port = TestAgent.UnusedPort();

        public Task<P2PRegistry.Swarm.Tracking.AnnounceResult> AnnounceAsync(P2PRegistry.Core.MetaInfos.InfoHash infoHash, P2PRegistry.Core.Content.Digest digest,
            P2PRegistry.Core.Wire.PeerId peerId, int port, bool complete, long bytesLeft, P2PRegistry.Swarm.Tracking.AnnounceEvent announceEvent, CancellationToken cancellationToken) =>
            Task.FromResult(new P2PRegistry.Swarm.Tracking.AnnounceResult(
                [new P2PRegistry.Swarm.Tracking.TrackerPeer(new IPEndPoint(IPAddress.Loopback, _port))], TimeSpan.FromSeconds(1)));
    }

    private static async Task AssertFastMissAsync(TestAgent agent, string digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    {
        using var client = new HttpClient { BaseAddress = agent.BaseAddress, Timeout = TimeSpan.FromSeconds(3) };
        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync($"/v2/test/img/blobs/{digest}?ns=docker.io");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("BLOB_UNKNOWN", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(agent.Logs.Contains(3, "blob"), "the fast-miss path was not logged");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3));
    }
}

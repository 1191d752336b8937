using System.Net;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Peers;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Agent.Tests.Blobs;

/// <summary>
/// Lazy reads: a Range on a cold blob fetches only the pieces covering it (plus <c>Agent:RangeReadAhead</c>), served as
/// they pass their SHA-1; the blob enters the cache only once complete and verified.
/// </summary>
public sealed class RangeReadTests : IDisposable
{
    private const int PieceLength = 256 * 1024;
    private const int Pieces = 32;
    private readonly TempDirectory _dir = new("agent-range");
    private readonly FakeTracker _tracker = new();
    private readonly FakeMetaInfoSource _metaInfos = new();

    public void Dispose() => _dir.Dispose();

    private async Task<(TestBlob Blob, TestAgent Seed)> StartSeedAsync(long egress = 0, int seed = 1)
    {
        var blob = await TestBlob.CreateAsync((Pieces * PieceLength) - 1000, PieceLength, seed);
        return (blob, await StartSeedAsync(blob, egress));
    }

    private async Task<TestAgent> StartSeedAsync(TestBlob blob, long egress = 0)
    {
        var seedPath = _dir.Combine("seed-" + blob.Digest.Hex[..8]);
        blob.InstallInto(seedPath);
        _metaInfos.Add(blob.MetaInfo);
        var agent = await TestAgent.StartAsync(seedPath, _metaInfos, _tracker, settings: $"--Agent:EgressBytesPerSecond={egress}");
        await Eventually.AssertAsync(() => _tracker.Seeds(blob.MetaInfo.InfoHash) > 0);
        return agent;
    }

    private Task<TestAgent> StartAgentAsync(params string[] settings) =>
        TestAgent.StartAsync(_dir.Combine("agent"), _metaInfos, _tracker, settings: ["--Agent:RangeReadAhead=0", .. settings]);

    private static async Task<HttpResponseMessage> GetRangeAsync(TestAgent agent, TestBlob blob, string range)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/test/img/blobs/{blob.Digest}");
        request.Headers.TryAddWithoutValidation("Range", range);
        return await agent.Client.SendAsync(request);
    }

    private static P2PRegistry.Swarm.DownloadHandle Download(TestAgent agent, TestBlob blob) =>
        Assert.IsType<SwarmBlobDownload>(agent.Fetcher.Find(blob.Digest)!.Started.Result).Handle;

    [Fact]
    public async Task TailRange_FetchesOnlyItsPieces_ServedWithoutTheBlobsDigest_NotCached()
    {
        var (blob, seed) = await StartSeedAsync();
        await using var _ = seed;
        await using var agent = await StartAgentAsync();

        using var response = await GetRangeAsync(agent, blob, "bytes=-300000");

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(blob.Content.AsSpan(blob.Content.Length - 300_000).ToArray(), await response.Content.ReadAsByteArrayAsync());
        var download = Download(agent, blob);
        Assert.Equal(2, download.VerifiedPieces); // the last piece (255 KiB) and the one before it
        Assert.False(download.IsComplete);
        Assert.False(download.WantsAll);
        Assert.False(agent.Cache.Contains(blob.Digest));
        Assert.Equal(2L * PieceLength - 1000, download.Statistics.BytesDownloaded);
    }

    [Fact]
    public async Task Range_WithReadAhead_FetchesTheNextPiecesToo_BoundedByTheReadAhead()
    {
        var (blob, seed) = await StartSeedAsync();
        await using var _ = seed;
        await using var agent = await StartAgentAsync($"--Agent:RangeReadAhead={3 * PieceLength}");

        using var response = await GetRangeAsync(agent, blob, $"bytes={4 * PieceLength}-{(5 * PieceLength) - 1}");

        Assert.Equal(blob.Content.AsSpan(4 * PieceLength, PieceLength).ToArray(), await response.Content.ReadAsByteArrayAsync());

        // Piece 4, then 5, 6 and 7 read ahead: their requests went out with the range's, so they arrive without more asking.
        var handle = Download(agent, blob);
        await Eventually.AssertAsync(() => handle.VerifiedPieces == 4);
        Assert.Equal(4L * PieceLength, handle.Statistics.BytesDownloaded);
        Assert.True(Enumerable.Range(4, 4).All(p => handle.VerifiedRunEnd(p) > 0));
    }

    [Fact]
    public async Task RangesThenAWholeGet_ReusesTheVerifiedPieces_CompletesAndCaches()
    {
        var (blob, seed) = await StartSeedAsync();
        await using var _ = seed;
        await using var agent = await StartAgentAsync();

        using (var tail = await GetRangeAsync(agent, blob, $"bytes={20 * PieceLength}-{(22 * PieceLength) - 1}"))
        {
            Assert.Equal(blob.Content.AsSpan(20 * PieceLength, 2 * PieceLength).ToArray(), await tail.Content.ReadAsByteArrayAsync());
        }

        var handle = Download(agent, blob);
        Assert.Equal(2, handle.VerifiedPieces);

        // The whole blob: every piece now, the sha256 checked, then the cache; the two pieces are not fetched again.
        Assert.Equal(blob.Content, await agent.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blob.Digest}"));
        await Eventually.AssertAsync(() => agent.Cache.Contains(blob.Digest));
        Assert.True(handle.IsComplete);
        Assert.Equal(blob.Content.Length, handle.Statistics.BytesDownloaded);
    }

    [Fact]
    public async Task RangeContinuesDownload_TheRangeIsServed_ThenTheBlobCompletesAndIsCached()
    {
        var (blob, seed) = await StartSeedAsync();
        await using var _ = seed;
        await using var agent = await StartAgentAsync("--Agent:RangeContinuesDownload=true");

        using var response = await GetRangeAsync(agent, blob, "bytes=100-199");

        Assert.Equal(blob.Content.AsSpan(100, 100).ToArray(), await response.Content.ReadAsByteArrayAsync());
        await Eventually.AssertAsync(() => agent.Cache.Contains(blob.Digest));
        Assert.Equal(blob.Content, await File.ReadAllBytesAsync(agent.Cache.PathOf(blob.Digest)));
    }

    [Fact]
    public async Task IdleRangeDownload_IsClosed_ItsPiecesStay_AndTheNextRangeReusesThem()
    {
        var (blob, seed) = await StartSeedAsync();
        await using var _ = seed;
        await using var agent = await StartAgentAsync("--Agent:RangeIdleTimeout=00:00:00.2");

        using (var first = await GetRangeAsync(agent, blob, $"bytes=0-{PieceLength - 1}"))
        {
            Assert.Equal(blob.Content.AsSpan(0, PieceLength).ToArray(), await first.Content.ReadAsByteArrayAsync());
        }

        await Eventually.AssertAsync(() => agent.Logs.Contains(33, "1 of 32 pieces verified"));
        Assert.Null(agent.Fetcher.Find(blob.Digest));
        Assert.True(File.Exists(Path.Combine(agent.DataPath, "download", blob.Digest.Hex)));
        Assert.False(agent.Cache.Contains(blob.Digest));

        // Resumed from the kept piece: the second range, over both pieces, fetches only the one it lacks.
        using var second = await GetRangeAsync(agent, blob, $"bytes=0-{(2 * PieceLength) - 1}");
        Assert.Equal(blob.Content.AsSpan(0, 2 * PieceLength).ToArray(), await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(PieceLength, Download(agent, blob).Statistics.BytesDownloaded);
    }

    [Fact]
    public async Task MaxRangeDownloads_OneMoreBlob_ClosesTheIdleOne()
    {
        var (blob, seed) = await StartSeedAsync(seed: 1);
        await using var _ = seed;
        var (other, otherSeed) = await StartSeedAsync(seed: 2);
        await using var __ = otherSeed;
        await using var agent = await StartAgentAsync("--Agent:MaxRangeDownloads=1");

        using (var first = await GetRangeAsync(agent, blob, "bytes=0-9"))
        {
            Assert.Equal(blob.Content.AsSpan(0, 10).ToArray(), await first.Content.ReadAsByteArrayAsync());
        }

        // The server leaves the download in its finally, which can run after the client has read the 10 bytes.
        await Eventually.AssertAsync(() => agent.Fetcher.Find(blob.Digest)!.Readers == 0);
        using var second = await GetRangeAsync(agent, other, "bytes=0-9");

        Assert.Equal(other.Content.AsSpan(0, 10).ToArray(), await second.Content.ReadAsByteArrayAsync());
        Assert.Null(agent.Fetcher.Find(blob.Digest));
        Assert.True(agent.Logs.Contains(33, blob.Digest.Value));
    }

    [Fact]
    public async Task MaxRangeDownloads_OneMoreBlob_ClosesTheOneWhoseLastReaderLeftLongestAgo_NotTheOneReadLeast()
    {
        var (often, oftenSeed) = await StartSeedAsync(seed: 1);
        await using var _ = oftenSeed;
        var (once, onceSeed) = await StartSeedAsync(seed: 2);
        await using var __ = onceSeed;
        var third = await TestBlob.CreateAsync(PieceLength, PieceLength, seed: 3);
        _metaInfos.Add(third.MetaInfo);
        await using var agent = await StartAgentAsync("--Agent:MaxRangeDownloads=2");

        // Read three times, but the last time before the other one.
        for (var i = 0; i < 3; i++)
        {
            var reader = agent.Fetcher.Join(often.Digest, "test", "img", rangeOnly: true)!;
            await reader.Started.WaitAsync(TimeSpan.FromSeconds(20));
            agent.Fetcher.Leave(reader);
        }

        await Task.Delay(50);
        var last = agent.Fetcher.Join(once.Digest, "test", "img", rangeOnly: true)!;
        await last.Started.WaitAsync(TimeSpan.FromSeconds(20));
        agent.Fetcher.Leave(last);

        Assert.NotNull(agent.Fetcher.Join(third.Digest, "test", "img", rangeOnly: true));
        Assert.Null(agent.Fetcher.Find(often.Digest));
        Assert.Same(last, agent.Fetcher.Find(once.Digest));
    }

    [Fact]
    public async Task RangeDownload_ItsReadersAllLeftBeforeItStarted_IsStoppedOnceIdle()
    {
        var (blob, seed) = await StartSeedAsync();
        await using var _ = seed;
        var tracker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _metaInfos.Fault = token => tracker.Task.WaitAsync(token);
        await using var agent = await StartAgentAsync("--Agent:RangeIdleTimeout=00:00:00.2", "--Agent:MissTimeout=00:00:30");

        // The only reader joins and leaves while the tracker has not answered: its idle timer fires before the start.
        var fetch = agent.Fetcher.Join(blob.Digest, "test", "img", rangeOnly: true)!;
        agent.Fetcher.Leave(fetch);
        await Task.Delay(1000);
        Assert.False(fetch.Started.IsCompleted);

        tracker.SetResult();
        await fetch.Started.WaitAsync(TimeSpan.FromSeconds(20));
        await Eventually.AssertAsync(() => agent.Fetcher.Find(blob.Digest) is null);
        await Eventually.AssertAsync(() => agent.Logs.Contains(33, blob.Digest.Value));
    }

    [Fact]
    public async Task WholeReader_JoinsAStartedRangeDownload_AndLeavesAtOnce_TheSwarmWantsEveryPiece()
    {
        var (blob, seed) = await StartSeedAsync();
        await using var _ = seed;
        await using var agent = await StartAgentAsync();
        var range = agent.Fetcher.Join(blob.Digest, "test", "img", rangeOnly: true)!;
        var handle = Assert.IsType<SwarmBlobDownload>(await range.Started.WaitAsync(TimeSpan.FromSeconds(20))).Handle;
        Assert.False(handle.WantsAll);

        // A GET without Range that ends before it says which pieces it wants (a client abort): the download is whole now.
        var whole = agent.Fetcher.Join(blob.Digest, "test", "img", rangeOnly: false)!;
        agent.Fetcher.Leave(whole);
        agent.Fetcher.Leave(range);

        Assert.False(range.RangeOnly);
        Assert.True(handle.WantsAll);
        await range.Cached.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(agent.Cache.Contains(blob.Digest));
    }

    [Fact]
    public async Task CorruptPieceFromAPeer_IsNeverServed_TheRangeComesFromTheNextSource()
    {
        // At first the liar is the only source: its piece fails, it is blacklisted, and the reader waits.
        var blob = await TestBlob.CreateAsync((Pieces * PieceLength) - 1000, PieceLength);
        _metaInfos.Add(blob.MetaInfo);
        await using var liar = new ScriptedPeerListener(blob, PieceAnswer.Corrupt);
        _tracker.AddPeer(blob.MetaInfo.InfoHash, liar.EndPoint);
        await using var agent = await StartAgentAsync("--Agent:MissTimeout=00:00:10");

        var response = GetRangeAsync(agent, blob, $"bytes={10 * PieceLength}-{(11 * PieceLength) - 1}");
        await Eventually.AssertAsync(() => agent.Engine.BlacklistedCount == 1);
        Assert.True(liar.BlocksSent > 0);
        Assert.False(response.IsCompleted, "the range was answered with nothing but the liar's bytes to send");

        // An honest seed shows up (the agent finds it at its next announce): the range comes from it.
        await using var seed = await StartSeedAsync(blob);
        using var answer = await response;
        Assert.Equal(HttpStatusCode.PartialContent, answer.StatusCode);
        Assert.Equal(blob.Content.AsSpan(10 * PieceLength, PieceLength).ToArray(), await answer.Content.ReadAsByteArrayAsync());
        var download = Download(agent, blob);
        Assert.True(download.Statistics.PiecesFailed >= 1);
        Assert.Equal(1, download.VerifiedPieces);
    }
}

using System.Net;
using System.Net.Http.Headers;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Agent.Tests.Cache;

/// <summary>
/// An agent that starts with blobs already in its cache (a restart) trusts none of them until checked: piece by
/// piece as they are read, and whole in the background. Blobs are installed as a finished download leaves them, some
/// with a byte flipped as a bad sector would.
/// </summary>
public sealed class CacheReverifyTests : IDisposable
{
    private const int PieceLength = 256 * 1024;
    private const string NoBackgroundCheck = "--Agent:VerifyCacheInBackground=false";

    private readonly TempDirectory _dir = new("agent-reverify");
    private readonly FakeTracker _tracker = new();
    private readonly FakeMetaInfoSource _metaInfos = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task GetBlob_UnverifiedIntactBlob_CheckedPieceByPieceThenServedWithNoCheck()
    {
        var blob = TestBlob.Create(5 * PieceLength + 1234, PieceLength);
        blob.InstallInto(_dir.Combine("agent"));
        await using var agent = await TestAgent.StartAsync(_dir.Combine("agent"), _metaInfos, _tracker, settings: NoBackgroundCheck);
        var url = $"/v2/test/img/blobs/{blob.Digest}";

        using (var lease = agent.Cache.TryAcquire(blob.Digest))
        {
            Assert.False(lease!.IsVerified);
        }

        // A range inside piece 2: only that piece is read and checked.
        using var range = new HttpRequestMessage(HttpMethod.Get, url);
        range.Headers.Range = new RangeHeaderValue(2 * PieceLength + 10, 2 * PieceLength + 99);
        using var partial = await agent.Client.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(blob.Content.AsSpan(2 * PieceLength + 10, 90).ToArray(), await partial.Content.ReadAsByteArrayAsync());
        using (var lease = agent.Cache.TryAcquire(blob.Digest))
        {
            var checks = lease!.Entry.Checks;
            Assert.NotNull(checks);
            Assert.True(checks.IsVerified(2));
            Assert.False(checks.IsVerified(1));
            Assert.False(lease.IsVerified);
        }

        // The whole blob: every piece checked, and from then on the blob is verified (no checks kept, none done).
        Assert.Equal(blob.Content, await agent.Client.GetByteArrayAsync(url));
        using (var lease = agent.Cache.TryAcquire(blob.Digest))
        {
            Assert.True(lease!.IsVerified);
            Assert.Null(lease.Entry.Checks);
        }

        Assert.Equal(blob.Content, await agent.Client.GetByteArrayAsync(url));
        Assert.False(agent.Logs.Contains(15));
    }

    [Fact]
    public async Task GetBlob_FirstPieceCorrupt_NeverServedFetchedAgainFromAPeer()
    {
        var blob = TestBlob.Create(6 * PieceLength + 77, PieceLength);
        await using var seed = await StartSeedAsync(blob);
        var damaged = blob.Content.ToArray();
        damaged[100] ^= 0x5A;
        blob.InstallInto(_dir.Combine("agent"), damaged);
        await using var agent = await TestAgent.StartAsync(_dir.Combine("agent"), _metaInfos, _tracker, settings: NoBackgroundCheck);

        // Found before the response starts: the request itself is answered from the swarm, with the right bytes.
        Assert.Equal(blob.Content, await agent.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blob.Digest}"));
        Assert.True(agent.Logs.Contains(15, blob.Digest.Value));
        await Eventually.AssertAsync(() => agent.Cache.Contains(blob.Digest));
        Assert.Equal(blob.Content, await File.ReadAllBytesAsync(agent.Cache.PathOf(blob.Digest)));
        Assert.Equal(blob.Content, await agent.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blob.Digest}"));
        Assert.Contains("p2pregistry_agent_cache_corrupt", await agent.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetBlob_LaterPieceCorrupt_ResponseAbortedNever200WithBadBytes_NextRequestFetchesAgain()
    {
        var blob = TestBlob.Create(6 * PieceLength + 77, PieceLength);
        await using var seed = await StartSeedAsync(blob);
        var damaged = blob.Content.ToArray();
        damaged[4 * PieceLength + 5] ^= 0x5A;
        blob.InstallInto(_dir.Combine("agent"), damaged);
        await using var agent = await TestAgent.StartAsync(_dir.Combine("agent"), _metaInfos, _tracker, settings: NoBackgroundCheck);
        var url = $"/v2/test/img/blobs/{blob.Digest}";

        // Pieces 0-3 are good and sent; piece 4 fails its check after the headers went out: the connection is cut.
        var failure = await Record.ExceptionAsync(() => agent.Client.GetByteArrayAsync(url));
        Assert.True(failure is HttpRequestException or IOException, $"expected a cut response, got {failure?.GetType().Name ?? "the whole body"}");
        Assert.True(agent.Logs.Contains(15, blob.Digest.Value));
        Assert.True(agent.Logs.Contains(7, "piece 4"));

        Assert.Equal(blob.Content, await agent.Client.GetByteArrayAsync(url));
    }

    [Fact]
    public async Task BackgroundCheck_CorruptBlobRemovedIntactOneVerified_BeforeAnyRequest()
    {
        var intact = TestBlob.Create(3 * PieceLength, PieceLength, seed: 2);
        var rotten = TestBlob.Create(3 * PieceLength, PieceLength, seed: 3);
        var damaged = rotten.Content.ToArray();
        damaged[^1] ^= 0x01;
        intact.InstallInto(_dir.Combine("agent"));
        rotten.InstallInto(_dir.Combine("agent"), damaged);

        await using var agent = await TestAgent.StartAsync(_dir.Combine("agent"), _metaInfos, _tracker);

        await Eventually.AssertAsync(() => agent.Logs.Contains(16));
        Assert.False(agent.Cache.Contains(rotten.Digest));
        Assert.False(File.Exists(agent.Cache.PathOf(rotten.Digest)));
        using var lease = agent.Cache.TryAcquire(intact.Digest);
        Assert.True(lease!.IsVerified);
        Assert.True(agent.Logs.Contains(15, rotten.Digest.Value));
        Assert.Contains("2 blobs hashed, 1 corrupt", agent.Logs.Entries.First(e => e.Id.Id == 16).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Seed_CorruptCachedBlob_PeerNeverGetsTheBadPieceAndTheBlobLeavesTheCache()
    {
        var blob = TestBlob.Create(4 * PieceLength, PieceLength, seed: 4);
        var damaged = blob.Content.ToArray();
        damaged[PieceLength + 3] ^= 0x5A;
        blob.InstallInto(_dir.Combine("rotten"), damaged);
        _metaInfos.Add(blob.MetaInfo);
        await using var rotten = await TestAgent.StartAsync(_dir.Combine("rotten"), _metaInfos, _tracker, settings: NoBackgroundCheck);
        await Eventually.AssertAsync(() => _tracker.Seeds(blob.MetaInfo.InfoHash) > 0);

        // A peer asks the restarted agent for its pieces: the piece that fails is never sent, the seed stops, and the
        // agent drops the blob from its cache. The peer, with no other source, gets nothing wrong (and no whole blob).
        await using var peer = await TestAgent.StartAsync(_dir.Combine("peer"), _metaInfos, _tracker, settings: "--Agent:MissTimeout=00:00:05");
        using var cut = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var attempt = Record.ExceptionAsync(() => peer.Client.GetByteArrayAsync($"/v2/test/img/blobs/{blob.Digest}", cut.Token));

        await Eventually.AssertAsync(() => !rotten.Cache.Contains(blob.Digest));
        Assert.True(rotten.Logs.Contains(15, blob.Digest.Value));
        Assert.True(rotten.Logs.Contains(15, "found by the seed"));
        Assert.False(File.Exists(rotten.Cache.PathOf(blob.Digest)));
        await cut.CancelAsync();
        Assert.NotNull(await attempt);
        Assert.Equal(0, peer.Engine.BlacklistedCount);
    }

    private async Task<TestAgent> StartSeedAsync(TestBlob blob)
    {
        var seedPath = _dir.Combine("seed");
        blob.InstallInto(seedPath);
        _metaInfos.Add(blob.MetaInfo);
        var seed = await TestAgent.StartAsync(seedPath, _metaInfos, _tracker);
        await Eventually.AssertAsync(() => _tracker.Seeds(blob.MetaInfo.InfoHash) > 0);
        return seed;
    }
}

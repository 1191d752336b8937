using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Peers;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>Liars, stallers and quitters among the peers: the download still completes, correctly.</summary>
public sealed class MisbehavingPeerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Download_PeerServesCorruptPieces_BlacklistedAndDownloadCorrect()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(2 * 1024 * 1024, 256 * 1024);
        var corrupt = (byte[])blob.Content.Clone();
        for (var piece = 0; piece < blob.MetaInfo.PieceCount; piece++)
        {
            corrupt[(piece * 256 * 1024) + 1000] ^= 0xFF;
        }

        var corruptPath = dir.Combine("corrupt");
        File.WriteAllBytes(corruptPath, corrupt);
        var tracker = new FakeTracker();

        // The honest seed is slow, the liar fast: the leecher certainly asks the liar for pieces.
        await using var honest = await TestNode.StartAsync(tracker, o => o.EgressBytesPerSecond = 2 * 1024 * 1024);
        // A liar that does not check its own file (a node that does would stop seeding it instead: SeedQuarantineTests).
        await using var liar = await TestNode.StartAsync(tracker, o => o.VerifySeedsOnFirstRead = false);
        await using var leecher = await TestNode.StartAsync(tracker);
        honest.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        liar.Engine.Seed(blob.MetaInfo, corruptPath);

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.True(download.Statistics.PiecesFailed >= 1, "the liar was never asked for a piece");
        Assert.True(leecher.Engine.BlacklistedCount >= 1);
        Assert.True(liar.Engine.GetStatistics(blob.MetaInfo.InfoHash)!.BytesUploaded > 0);
        Assert.False(download.Statistics.DownloadedByPeer.ContainsKey(liar.Engine.PeerId) && download.Statistics.DownloadedByPeer[liar.Engine.PeerId] >= blob.MetaInfo.Length);
    }

    [Fact]
    public async Task Download_LiarHangsUpRightAfterItsPiece_StillBlacklisted()
    {
        // One piece of 16 blocks, and the liar is the only peer at first: it sends all 16, corrupt, and hangs up at
        // once after its last block.
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(256 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var liar = new ScriptedPeerListener(blob, PieceAnswer.Corrupt, answerBlocks: 16);
        tracker.AddPeer(blob.MetaInfo.InfoHash, liar.EndPoint);
        await using var leecher = await TestNode.StartAsync(tracker);

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        var deadline = DateTime.UtcNow + Timeout;
        while (download.Statistics.PiecesFailed == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(16, liar.BlocksSent);
        Assert.Equal(1, download.Statistics.PiecesFailed);

        // Its address as dialled (never the id it claims), in this swarm only.
        Assert.Equal(1, leecher.Engine.BlacklistedCount);

        // An honest seed then completes it.
        await using var seed = await TestNode.StartAsync(tracker);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        await download.Completion.WaitAsync(Timeout);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
    }

    [Fact]
    public async Task Download_LiarLeavesBeforeItsPieceIsChecked_StillBlacklisted()
    {
        // The check of the liar's one piece is held until the leecher has seen the liar hang up: the failed check then
        // finds the liar only among the peers that left. The leecher announces once a minute, so it does not dial the
        // liar again meanwhile (a redial would make it a live peer again).
        using var dir = new TempDirectory();
        using var checking = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        var blob = TestBlob.Create(256 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var liar = new ScriptedPeerListener(blob, PieceAnswer.Corrupt, answerBlocks: 16);
        tracker.AddPeer(blob.MetaInfo.InfoHash, liar.EndPoint);
        await using var leecher = await TestNode.StartAsync(tracker, o =>
        {
            o.DownloadAnnounceInterval = TimeSpan.FromMinutes(1);
            o.DownloadAnnounceBackoffCap = TimeSpan.FromMinutes(1);
        });
        leecher.Engine.BeforePieceCheck = _ =>
        {
            checking.Release();
            release.Wait(Timeout);
        };

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        try
        {
            Assert.True(await checking.WaitAsync(Timeout), "the piece never reached its check");
            await Eventually.AssertAsync(() => download.PeerCount == 0, "the leecher saw the liar leave");
            Assert.Equal(0, download.Statistics.PiecesFailed);
            Assert.Equal(1, liar.Connections);
        }
        finally
        {
            release.Set();
        }

        await Eventually.AssertAsync(() => download.Statistics.PiecesFailed == 1, "the held check failed");
        await Eventually.AssertAsync(() => leecher.Engine.BlacklistedCount == 1, "the departed liar blacklisted");
        Assert.Equal(16, liar.BlocksSent);
    }

    [Fact]
    public async Task Download_PeerNeverAnswersRequests_RoutedAround()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(2 * 1024 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var staller = new ScriptedPeerListener(blob, PieceAnswer.Hold);
        tracker.AddPeer(blob.MetaInfo.InfoHash, staller.EndPoint);
        await using var seed = await TestNode.StartAsync(tracker, o => o.EgressBytesPerSecond = 4 * 1024 * 1024);
        await using var leecher = await TestNode.StartAsync(tracker, o => o.StallTimeout = TimeSpan.FromSeconds(1));
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.True(staller.Requests > 0, "the staller was never asked for anything");
        Assert.Equal(blob.MetaInfo.Length, download.Statistics.DownloadedByPeer[seed.Engine.PeerId]);
    }

    [Fact]
    public async Task Download_PeerDisconnectsMidPiece_ItsBlocksFetchedFromOthers()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(2 * 1024 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var quitter = new ScriptedPeerListener(blob, PieceAnswer.Correct, answerBlocks: 3);
        tracker.AddPeer(blob.MetaInfo.InfoHash, quitter.EndPoint);
        await using var seed = await TestNode.StartAsync(tracker, o => o.EgressBytesPerSecond = 4 * 1024 * 1024);
        await using var leecher = await TestNode.StartAsync(tracker);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.Equal(3, quitter.BlocksSent);

        // Its blocks count unless an endgame duplicate from the seed beat them (timing); never more.
        Assert.True(download.Statistics.DownloadedByPeer.GetValueOrDefault(quitter.PeerId) <= 3 * 16384);
        Assert.Equal(blob.MetaInfo.Length, download.Statistics.BytesDownloaded);
    }

    [Fact]
    public async Task Download_OnlyPeerStallsForAWhile_AskedAgainAndCompletes()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1024 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var slow = new ScriptedPeerListener(blob, PieceAnswer.Correct, ignoreRequestsFor: TimeSpan.FromSeconds(1.5));
        tracker.AddPeer(blob.MetaInfo.InfoHash, slow.EndPoint);
        await using var leecher = await TestNode.StartAsync(tracker, o => o.StallTimeout = TimeSpan.FromSeconds(1));

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.True(slow.Requests > blob.MetaInfo.Length / 16384, "the stalled requests were never asked again");
    }
}

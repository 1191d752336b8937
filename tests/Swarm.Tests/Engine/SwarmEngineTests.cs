using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using Xunit.Abstractions;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>Real engines over loopback TCP, hosted in Kestrel, finding each other through a tracker.</summary>
public sealed class SwarmEngineTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Download_OneSeedOneLeecher_CompletesWithDigestVerified()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(3_000_000, 256 * 1024);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker);
        await using var leecher = await TestNode.StartAsync(tracker);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.True(download.IsComplete);
        Assert.Equal(blob.MetaInfo.PieceCount, download.VerifiedPieces);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.False(File.Exists(dir.Combine("leech") + PieceStore.BitfieldSuffix));
        Assert.Equal(blob.MetaInfo.Length, download.Statistics.DownloadedByPeer[seed.Engine.PeerId]);
    }

    [Fact]
    public async Task VerifiedRunEnd_IsTheFirstMissingPieceFromThere_ZeroWhenMissing_LengthWhenAllAre()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(8 * 64 * 1024 - 1000, 64 * 1024); // 8 pieces, the last one short
        var path = dir.Combine("leech");

        // A download stopped with pieces 0, 1, 2 and 5 verified; the restarted engine resumes it (no peers).
        using (var partial = PieceStore.OpenForDownload(blob.MetaInfo, path))
        {
            foreach (var piece in new[] { 0, 1, 2, 5 })
            {
                partial.Write(piece, 0, blob.Piece(piece));
                partial.MarkVerified(piece);
            }
        }

        await using var leecher = await TestNode.StartAsync(new FakeTracker());
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, path);
        var pieceLength = blob.MetaInfo.PieceLength;

        Assert.Equal(3 * pieceLength, download.VerifiedRunEnd(0));
        Assert.Equal(3 * pieceLength, download.VerifiedRunEnd(2));
        Assert.Equal(0, download.VerifiedRunEnd(3));
        Assert.Equal(6 * pieceLength, download.VerifiedRunEnd(5));
        Assert.Equal(0, download.VerifiedRunEnd(7));
        Assert.Equal(blob.MetaInfo.Length, download.VerifiedRunEnd(8));
    }

    [Fact]
    public async Task Download_StreamingReader_ReadsPiecesInOrderAsTheyVerify()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(2_500_000, 256 * 1024);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker, o => o.EgressBytesPerSecond = 4 * 1024 * 1024);
        await using var leecher = await TestNode.StartAsync(tracker);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));

        // What the agent does for containerd: stream the blob in order while it downloads.
        using var streamed = new MemoryStream();
        var buffer = new byte[100_000];
        using var cts = new CancellationTokenSource(Timeout);
        long offset = 0;
        while (offset < blob.MetaInfo.Length)
        {
            var piece = (int)(offset / blob.MetaInfo.PieceLength);
            download.Prioritize(piece, 4);
            await download.WaitForPieceAsync(piece, cts.Token);
            var read = download.Read(offset, buffer);
            Assert.True(read > 0);
            streamed.Write(buffer, 0, read);
            offset += read;
        }

        Assert.Equal(blob.Content, streamed.ToArray());
        Assert.Equal(0, download.Read(blob.MetaInfo.Length, buffer));
        await download.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Download_OneSeedFourLeechersAtOnce_LeechersTradePieces()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(8 * 1024 * 1024, 256 * 1024);
        var tracker = new FakeTracker();

        // The seed's uplink is the scarce resource (as an origin's is): 8 MiB/s for 4 × 8 MiB wanted.
        await using var seed = await TestNode.StartAsync(tracker, o => o.EgressBytesPerSecond = 8 * 1024 * 1024);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        tracker.MarkOrigin(seed.Engine.PeerId);
        var leechers = new List<TestNode>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                leechers.Add(await TestNode.StartAsync(tracker));
            }

            var downloads = await Task.WhenAll(leechers.Select((l, i) => l.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine($"leech{i}"))));
            await Task.WhenAll(downloads.Select(d => d.Completion)).WaitAsync(Timeout);

            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine($"leech{i}")));
            }

            var seedUploaded = seed.Engine.GetStatistics(blob.MetaInfo.InfoHash)!.BytesUploaded;
            var fromOrigin = downloads.Sum(d => d.Statistics.BytesFromOrigins);
            var fromPeers = downloads.Sum(d => d.Statistics.BytesDownloaded - d.Statistics.BytesFromOrigins);
            output.WriteLine($"seed uploaded {seedUploaded / (double)blob.MetaInfo.Length:F2}× the blob; leechers got {fromOrigin} bytes from the origin, {fromPeers} from each other");
            Assert.True(seedUploaded < 3 * blob.MetaInfo.Length, $"the seed uploaded {seedUploaded} bytes, {seedUploaded / (double)blob.MetaInfo.Length:F2}× the blob");
            Assert.True(fromPeers > blob.MetaInfo.Length, $"leechers got only {fromPeers} bytes from each other");
            Assert.Equal(4 * blob.MetaInfo.Length, fromOrigin + fromPeers);
        }
        finally
        {
            foreach (var leecher in leechers)
            {
                await leecher.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Download_ConnectionLimitPerSwarm_NeverMoreSessions()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(2 * 1024 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        var seeds = new List<TestNode>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var seed = await TestNode.StartAsync(tracker, o => o.EgressBytesPerSecond = 2 * 1024 * 1024);
                seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, $"seed{i}"));
                seeds.Add(seed);
            }

            await using var leecher = await TestNode.StartAsync(tracker, o => o.MaxConnectionsPerSwarm = 1);
            var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
            var most = 0;
            for (var i = 0; i < 3000 && !download.Completion.IsCompleted; i++)
            {
                most = Math.Max(most, download.PeerCount);
                await Task.Delay(10);
            }

            Assert.True(most <= 1, $"{most} sessions with a limit of 1");

            await download.Completion.WaitAsync(Timeout);
            Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
            Assert.Single(download.Statistics.DownloadedByPeer);
        }
        finally
        {
            foreach (var seed in seeds)
            {
                await seed.DisposeAsync();
            }
        }
    }
}

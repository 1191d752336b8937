using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests.Engine;

public sealed class DownloadFailureTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Download_PiecesRightButDigestWrong_FailsAndDiscardsFile()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(600_000, 256 * 1024);

        // Piece hashes of the real bytes, but a digest they do not hash to.
        var lying = MetaInfo.Create(Digest.Compute("something else"u8), blob.MetaInfo.Length, blob.MetaInfo.PieceLength, blob.MetaInfo.PieceHashes);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker);
        await using var leecher = await TestNode.StartAsync(tracker);
        seed.Engine.Seed(lying, blob.WriteTo(dir.Path, "seed"));

        var download = await leecher.Engine.StartDownloadAsync(lying, dir.Combine("leech"));
        await Assert.ThrowsAsync<InvalidDataException>(() => download.Completion.WaitAsync(Timeout));
        Assert.False(File.Exists(dir.Combine("leech")));
        Assert.False(File.Exists(dir.Combine("leech") + PieceStore.BitfieldSuffix));
        Assert.Null(leecher.Engine.GetStatistics(lying.InfoHash));
    }

    [Fact]
    public async Task Download_Restarted_ResumesVerifiedPiecesWithoutRefetching()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(8 * 256 * 1024, 256 * 1024);
        var path = dir.Combine("leech");
        using (var partial = PieceStore.OpenForDownload(blob.MetaInfo, path))
        {
            for (var piece = 0; piece < 5; piece++)
            {
                partial.Write(piece, 0, blob.Piece(piece));
                partial.MarkVerified(piece);
            }
        }

        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker);
        await using var leecher = await TestNode.StartAsync(tracker);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, path);
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(path));
        Assert.Equal(3 * 256 * 1024, download.Statistics.BytesDownloaded);
        Assert.Equal(3 * 256 * 1024, seed.Engine.GetStatistics(blob.MetaInfo.InfoHash)!.BytesUploaded);
    }

    [Fact]
    public async Task Metrics_Download_CountsBytesPiecesAndPeers()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1_000_000, 256 * 1024);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker);
        tracker.MarkOrigin(seed.Engine.PeerId);
        await using var leecher = await TestNode.StartAsync(tracker);
        var factory = leecher.Services.GetRequiredService<IMeterFactory>();
        var totals = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SwarmMetrics.MeterName && instrument.Meter.Scope == factory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var kind = "";
            foreach (var tag in tags)
            {
                kind = tag.Key == "peer.kind" ? "/" + tag.Value : kind;
            }

            lock (totals)
            {
                // Observable counters (the byte counts) report their running total when collected.
                totals[instrument.Name + kind] = instrument.IsObservable ? value : totals.GetValueOrDefault(instrument.Name + kind) + value;
            }
        });
        listener.Start();

        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);
        listener.RecordObservableInstruments();

        lock (totals)
        {
            Assert.Equal(blob.MetaInfo.Length, totals["p2pregistry.swarm.bytes_downloaded/origin"]);
            Assert.Equal(blob.MetaInfo.PieceCount, totals["p2pregistry.swarm.pieces_verified"]);
            Assert.Equal(1, totals["p2pregistry.swarm.downloads_completed"]);
            Assert.True(totals.GetValueOrDefault("p2pregistry.swarm.peers_connected") >= 0);
        }

        Assert.Equal(blob.MetaInfo.Length, download.Statistics.BytesFromOrigins);
    }

    [Fact]
    public async Task Options_Invalid_EngineRefusesToStart()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new SwarmOptions { MaxConnections = 0, StallTimeout = TimeSpan.Zero });
        var metrics = new SwarmMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => new SwarmEngine(options, new FakeTracker(), metrics, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        Assert.Contains(error.Failures, f => f.Contains("Swarm:MaxConnections", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("StallTimeout", StringComparison.Ordinal));
        await Task.CompletedTask;
    }
}

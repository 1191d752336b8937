using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Origin.Seeding;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Origin.Tests.Seeding;

/// <summary>
/// A stored blob that rotted on disk (one byte flipped while the origin was down), fetched by a swarm engine over the
/// restarted origin's peer port: the corrupt piece never leaves the origin, which moves the blob into quarantine, logs
/// and counts it, and serves it no more over HTTP until it is pushed again. A blob the running process stored itself
/// is seeded without that check (verified as it was written); a restart checks it again.
/// </summary>
public sealed class SeedQuarantineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SeedCorrupted_PieceFlippedOnDisk_NeverSentBlobQuarantinedAndNoLongerServed()
    {
        using var storage = new TempDirectory();
        var content = OriginServer.RandomBytes(1_200_000, 7); // 5 pieces of 256 KiB
        const int corruptPiece = 2;
        Digest digest;
        MetaInfo metaInfo;
        string stored;
        await using (var first = await OriginServer.StartAsync(storagePath: storage.Path))
        {
            digest = await first.PushBlobAsync("seed/quarantine", content);
            metaInfo = MetaInfo.Decode(await first.Client.GetByteArrayAsync($"/p2p/v1/metainfo/{digest.Value}"));
            stored = first.BlobDataPath(digest);
        }

        // The byte flips while no origin runs; the next one to start did not store the blob, so it checks it.
        FileDamage.FlipByte(stored, (corruptPiece * metaInfo.PieceLength) + 1234);
        var logs = new CapturingLoggerProvider();
        await using var origin = await OriginServer.StartAsync(storagePath: storage.Path, configureServices: s => s.AddSingleton<ILoggerProvider>(logs));
        Assert.False(origin.Services.GetRequiredService<SeedIndex>().StoredHere(digest));
        var corrupt = await File.ReadAllBytesAsync(stored);
        using var quarantined = new CounterProbe(origin, "p2pregistry.origin.blobs.quarantined");
        var peerPort = origin.Services.GetRequiredService<PeerListener>().BoundEndPoint!;
        await using var leecher = new Leecher(peerPort);
        var leechPath = Path.Combine(origin.StoragePath, "leech");

        var download = await leecher.Engine.StartDownloadAsync(metaInfo, leechPath);
        await Eventually.AssertAsync(() => quarantined.Total > 0 && logs.Entries.Any(IsQuarantineLine), timeout: TimeSpan.FromSeconds(60));

        // Never sent: the leecher failed no piece (it would have, and blacklisted the origin) and lacks that one.
        Assert.Equal(0, download.Statistics.PiecesFailed);
        Assert.Equal(0, leecher.Engine.BlacklistedCount);
        Assert.Equal(0, download.VerifiedRunEnd(corruptPiece));
        Assert.False(download.IsComplete);

        // Moved aside, whole, into the quarantine folder; logged once, counted once.
        Assert.False(File.Exists(stored));
        var moved = Assert.Single(Directory.GetFiles(Path.Combine(origin.StoragePath, "quarantine")));
        Assert.StartsWith(digest.Hex + ".", Path.GetFileName(moved), StringComparison.Ordinal);
        Assert.Equal(corrupt, await File.ReadAllBytesAsync(moved));
        var line = Assert.Single(logs.Entries, IsQuarantineLine);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Contains(digest.Value, line.Message, StringComparison.Ordinal);
        Assert.Equal(1, quarantined.Total);

        // No longer served: not over HTTP, not by the peer port (not reopened on demand), its swarm stopped.
        using (var get = await origin.Client.GetAsync($"/v2/seed/quarantine/blobs/{digest.Value}"))
        {
            await OriginServer.AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        }

        using (var meta = await origin.Client.GetAsync($"/p2p/v1/metainfo/{digest.Value}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, meta.StatusCode);
        }

        Assert.Null(origin.Services.GetRequiredService<SeedIndex>().Resolve(metaInfo.InfoHash));
        var engine = origin.Services.GetRequiredService<SwarmEngine>();
        await Eventually.AssertAsync(() => engine.GetStatistics(metaInfo.InfoHash) is null, timeout: TimeSpan.FromSeconds(60));

        // A push of the same digest restores it.
        Assert.Equal(digest, await origin.PushBlobAsync("seed/quarantine", content));
        Assert.Equal(content, await origin.Client.GetByteArrayAsync($"/v2/seed/quarantine/blobs/{digest.Value}"));
    }

    [Fact]
    public async Task Resolve_BlobStoredByThisProcess_SeededWithoutFirstReadCheckUntilARestart()
    {
        using var storage = new TempDirectory();
        var content = OriginServer.RandomBytes(600_000, 9);
        Digest digest;
        MetaInfo metaInfo;
        await using (var first = await OriginServer.StartAsync(storagePath: storage.Path))
        {
            digest = await first.PushBlobAsync("seed/trusted", content);
            metaInfo = MetaInfo.Decode(await first.Client.GetByteArrayAsync($"/p2p/v1/metainfo/{digest.Value}"));
            var here = first.Services.GetRequiredService<SeedIndex>().Resolve(metaInfo.InfoHash);
            Assert.NotNull(here);
            Assert.True(here.VerifiedHere);
        }

        await using var restarted = await OriginServer.StartAsync(storagePath: storage.Path);
        var index = restarted.Services.GetRequiredService<SeedIndex>();
        var found = index.Resolve(metaInfo.InfoHash);
        Assert.NotNull(found);
        Assert.Equal(digest, found.MetaInfo.Digest);
        Assert.False(found.VerifiedHere);

        // Pushed again to the running process: stored here from now on.
        Assert.Equal(digest, await restarted.PushBlobAsync("seed/trusted", content));
        Assert.True(index.StoredHere(digest));
    }

    [Fact]
    public async Task OnSeedCorrupted_StoredBlobReplacedByAGoodOneMeanwhile_Kept()
    {
        await using var origin = await OriginServer.StartAsync();
        var content = OriginServer.RandomBytes(600_000, 8);
        var digest = await origin.PushBlobAsync("seed/replaced", content);
        var metaInfo = MetaInfo.Decode(await origin.Client.GetByteArrayAsync($"/p2p/v1/metainfo/{digest.Value}"));
        using var quarantined = new CounterProbe(origin, "p2pregistry.origin.blobs.quarantined");

        // The engine reports the file it had open as corrupt; the file stored under the digest now is intact.
        origin.Services.GetRequiredService<SeedQuarantine>().OnSeedCorrupted(new SeedCorruption(metaInfo.InfoHash, digest, 1, origin.BlobDataPath(digest)));

        Assert.True(File.Exists(origin.BlobDataPath(digest)));
        Assert.Equal(0, quarantined.Total);
        Assert.Equal(content, await origin.Client.GetByteArrayAsync($"/v2/seed/replaced/blobs/{digest.Value}"));
    }

    private static bool IsQuarantineLine((string Category, EventId EventId, LogLevel Level, string Message) entry) =>
        entry.Category == typeof(SeedQuarantine).FullName && entry.EventId.Id == 62;

    /// <summary>A swarm engine as an agent runs it, told by its "tracker" that the origin's peer port has every blob.</summary>
    private sealed class Leecher : IAsyncDisposable, ITrackerClient
    {
        private readonly ServiceProvider _services;
        private readonly IPEndPoint _origin;

        public Leecher(IPEndPoint origin)
        {
            _origin = origin;
            _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            var options = new SwarmOptions
            {
                PeerPort = 0,
                DownloadAnnounceInterval = TimeSpan.FromMilliseconds(500),
                ConnectTimeout = TimeSpan.FromSeconds(5),
                StallTimeout = TimeSpan.FromSeconds(2),
            };
            Engine = new SwarmEngine(Options.Create(options), this, new SwarmMetrics(_services.GetRequiredService<IMeterFactory>()), NullLoggerFactory.Instance);
        }

        public SwarmEngine Engine { get; }

        public Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken) =>
            Task.FromResult(new AnnounceResult([new TrackerPeer(_origin, IsOrigin: true)], TimeSpan.FromMilliseconds(500)));

        public async ValueTask DisposeAsync()
        {
            await Engine.DisposeAsync();
            await _services.DisposeAsync();
        }
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, EventId EventId, LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider.Entries.Enqueue((category, eventId, logLevel, formatter(state, exception)));
        }
    }
}

using System.Text;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tests.Engine;
using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Testing;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.FileSystem;
using Xunit.Abstractions;

namespace P2PRegistry.Swarm.Tests.Interop;

/// <summary>
/// Our engine and aria2c — a BitTorrent client nobody here wrote — in one swarm, found through a real
/// opentracker, all on 127.0.0.1. Proves the wire protocol against an independent implementation.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class Aria2InteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Aria2c_DownloadsFromOurSeed_FileMatches()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(3 * 1024 * 1024 + 777, 256 * 1024);
        await using var tracker = await OpenTracker.StartAsync(dir, blob.MetaInfo.InfoHash);
        using var http = new HttpClient();
        var announces = new CountingTracker(new HttpTrackerClient(http, tracker.Announce));
        await using var seed = await TestNode.StartAsync(announces);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        await announces.WaitForSuccessAsync(Timeout);

        var torrent = WriteTorrent(dir, blob.MetaInfo, tracker.Announce);
        var outDir = Directory.CreateDirectory(dir.Combine("aria2-out")).FullName;
        await using var aria2 = ExternalProcess.Start("aria2c", [.. Aria2Flags(), "--seed-time=0", $"--dir={outDir}", torrent], dir.Path);
        try
        {
            await aria2.WaitForExitAsync(Timeout);
        }
        finally
        {
            output.WriteLine(aria2.Output);
        }

        Assert.Equal(0, aria2.ExitCode);
        var file = Assert.Single(Directory.GetFiles(outDir), f => !f.EndsWith(".aria2", StringComparison.Ordinal));
        Assert.Equal(blob.Content, File.ReadAllBytes(file));
        Assert.True(seed.Engine.GetStatistics(blob.MetaInfo.InfoHash)!.BytesUploaded >= blob.MetaInfo.Length);
    }

    [Fact]
    public async Task Engine_DownloadsFromAria2cSeed_FileMatches()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(3 * 1024 * 1024 + 777, 256 * 1024);
        await using var tracker = await OpenTracker.StartAsync(dir, blob.MetaInfo.InfoHash);
        var seedDir = Directory.CreateDirectory(dir.Combine("aria2-seed")).FullName;
        File.WriteAllBytes(Path.Combine(seedDir, blob.MetaInfo.Digest.Value), blob.Content);
        var torrent = WriteTorrent(dir, blob.MetaInfo, tracker.Announce);
        await using var aria2 = ExternalProcess.Start("aria2c", [.. Aria2Flags(), "--check-integrity=true", "--seed-ratio=0.0", $"--dir={seedDir}", torrent], dir.Path);

        using var http = new HttpClient();
        await using var leecher = await TestNode.StartAsync(new HttpTrackerClient(http, tracker.Announce), o => o.DownloadAnnounceInterval = TimeSpan.FromSeconds(1));
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        try
        {
            await download.Completion.WaitAsync(Timeout);
        }
        finally
        {
            output.WriteLine(aria2.Output);
        }

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        var (aria2Peer, bytes) = Assert.Single(download.Statistics.DownloadedByPeer);
        Assert.StartsWith("A2-", aria2Peer.ToString(), StringComparison.Ordinal); // aria2c's peer id prefix
        Assert.Equal(blob.MetaInfo.Length, bytes);
    }

    private static string[] Aria2Flags() =>
    [
        "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
        "--disable-ipv6=true", "--bt-tracker-interval=1", "--bt-tracker-connect-timeout=5", "--bt-tracker-timeout=5",
        "--file-allocation=none", "--bt-max-peers=0", "--bt-request-peer-speed-limit=0", "--summary-interval=0",
        "--console-log-level=warn", "--interface=127.0.0.1", $"--listen-port={ExternalProcess.FreePort()}",
        "--bt-stop-timeout=60", "--follow-torrent=false",
    ];

    /// <summary>A .torrent around our info dictionary: <c>d8:announce…4:info&lt;MetaInfo.Encoded&gt;e</c>.</summary>
    private static string WriteTorrent(TempDirectory dir, MetaInfo metaInfo, Uri announce)
    {
        var url = Encoding.ASCII.GetBytes(announce.AbsoluteUri);
        using var torrent = new MemoryStream();
        torrent.Write(Encoding.ASCII.GetBytes($"d8:announce{url.Length}:"));
        torrent.Write(url);
        torrent.Write("4:info"u8);
        torrent.Write(metaInfo.Encoded.Span);
        torrent.Write("e"u8);
        var path = dir.Combine("blob.torrent");
        File.WriteAllBytes(path, torrent.ToArray());
        return path;
    }

    private sealed class CountingTracker(ITrackerClient inner) : ITrackerClient
    {
        private readonly TaskCompletionSource _firstSuccess = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task WaitForSuccessAsync(TimeSpan timeout) => _firstSuccess.Task.WaitAsync(timeout);

        public async Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, P2PRegistry.Core.Content.Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken)
        {
            var result = await inner.AnnounceAsync(infoHash, digest, peerId, port, complete, bytesLeft, announceEvent, cancellationToken);
            _firstSuccess.TrySetResult();
            return result;
        }
    }
}

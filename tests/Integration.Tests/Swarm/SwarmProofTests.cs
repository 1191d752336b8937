using Grpc.Net.Client;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm;
using P2PRegistry.Swarm.Tracking;
using P2PRegistry.Testing.Http;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Integration.Tests.Swarm;

/// <summary>
/// The end-to-end proofs of the swarm: real Origin and Tracker processes, aria2c (a client nobody here wrote), and
/// engines in the test process announcing over gRPC — all on 127.0.0.1.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class SwarmProofTests : IClassFixture<SwarmFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly SwarmFixture _fixture;
    private readonly ITestOutputHelper _output;

    public SwarmProofTests(SwarmFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
        fixture.Output.Attach(output);
    }

    [Fact]
    public async Task Aria2c_DownloadsBlobSeededByOrigin_ThroughTracker_BytesMatchDigest()
    {
        var dir = _fixture.Directory.CreateSubdirectory("aria2-leech");
        var blob = SwarmBlob.Create(Path.Combine(dir, "pushed"), 24, seed: 1);
        await _fixture.PushAsync(blob);
        var uploadedBefore = await SwarmFixture.OriginBytesUploadedAsync(_fixture.Origin);
        var (torrent, _) = await _fixture.FetchTorrentAsync(blob.Digest, Path.Combine(dir, "blob.torrent"));
        var outDir = Directory.CreateDirectory(Path.Combine(dir, "out")).FullName;

        await using (var aria2 = await Aria2c.StartAsync(torrent, outDir, _output.WriteLine, "--seed-time=0"))
        {
            Assert.Equal(0, await aria2.WaitForExitAsync(Timeout));
        }

        var file = Path.Combine(outDir, blob.Digest.Value);
        Assert.Equal(blob.Digest, SwarmBlob.DigestOf(file));
        // The only source was the origin's peer port, which the tracker learnt from the metainfo fetch. Its upload counter
        // is read from /metrics, which may lag the last block aria2c received.
        await Eventually.AssertAsync(async () => await SwarmFixture.OriginBytesUploadedAsync(_fixture.Origin) - uploadedBefore >= blob.Length,
            "the origin's uploaded bytes reach the blob's length");
    }

    [Fact]
    public async Task Engine_DownloadsBlobOnlyAria2cSeeds_AllBytesFromAria2c()
    {
        var dir = _fixture.Directory.CreateSubdirectory("aria2-seed");
        // aria2c's own copy; the origin never sees this blob, so it cannot be a source.
        var seedDir = Directory.CreateDirectory(Path.Combine(dir, "seed")).FullName;
        var generated = SwarmBlob.Create(Path.Combine(dir, "generated"), 16, seed: 2);
        MetaInfo metaInfo;
        await using (var content = File.OpenRead(generated.Path))
        {
            metaInfo = await MetaInfo.ComputeAsync(generated.Digest, content, generated.Length, default);
        }

        File.Move(generated.Path, Path.Combine(seedDir, generated.Digest.Value));
        var torrent = Path.Combine(dir, "blob.torrent");
        WriteTorrent(torrent, metaInfo, new Uri(_fixture.Tracker.HttpUrl, "/announce"));

        // The tracker opens swarms only for blobs an origin holds: an origin of the cluster (not the origin process,
        // which would then be a source) vouches for this one by announcing it, and leaves the swarm at once.
        await VouchAsOriginAsync(metaInfo);
        await using var peer = await SwarmPeer.StartAsync(_fixture.Tracker.GrpcUrl);
        var download = await peer.DownloadAsync(metaInfo, Path.Combine(dir, "leech"));
        // The engine's gRPC announce opens the swarm on the tracker, which then accepts aria2c's HTTP announce.
        await peer.Tracker.WaitForSuccessAsync(Timeout);
        await using var aria2 = await Aria2c.StartAsync(torrent, seedDir, _output.WriteLine, "--check-integrity=true", "--seed-ratio=0.0");

        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(generated.Digest, SwarmBlob.DigestOf(Path.Combine(dir, "leech")));
        var statistics = peer.Statistics(metaInfo);
        Assert.Equal(0, statistics.BytesFromOrigins);
        var (aria2Peer, bytes) = Assert.Single(statistics.DownloadedByPeer);
        Assert.StartsWith("A2-", aria2Peer.ToString(), StringComparison.Ordinal); // aria2c's peer id prefix
        Assert.Equal(metaInfo.Length, bytes);
    }

    private async Task VouchAsOriginAsync(MetaInfo metaInfo)
    {
        using var channel = GrpcChannel.ForAddress(_fixture.Tracker.GrpcUrl, new GrpcChannelOptions { HttpHandler = SourceAddressHandler.Create(SwarmFixture.VouchingOrigin) });
        var origin = new GrpcTrackerClient(new Contracts.Tracker.Tracker.TrackerClient(channel), TrackerRole.Origin, TimeSpan.FromSeconds(30));
        var peerId = PeerId.CreateRandom();
        var port = FreePort.Next();
        await origin.AnnounceAsync(metaInfo.InfoHash, metaInfo.Digest, peerId, port, complete: true, bytesLeft: 0, AnnounceEvent.Started, default);
        await origin.AnnounceAsync(metaInfo.InfoHash, metaInfo.Digest, peerId, port, complete: true, bytesLeft: 0, AnnounceEvent.Stopped, default);
    }

    [Fact]
    public async Task FourPeers_FetchTheSameBlobAtOnce_OriginSendsFarLessThanFourCopies()
    {
        var dir = _fixture.Directory.CreateSubdirectory("swarm-of-four");
        var blob = SwarmBlob.Create(Path.Combine(dir, "pushed"), 48, seed: 3);
        await _fixture.PushAsync(blob);
        var (_, metaInfo) = await _fixture.FetchTorrentAsync(blob.Digest, Path.Combine(dir, "blob.torrent"));
        Assert.Equal(256 * 1024, metaInfo.PieceLength);
        var uploadedBefore = await SwarmFixture.OriginBytesUploadedAsync(_fixture.Origin);

        var peers = new List<SwarmPeer>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                peers.Add(await SwarmPeer.StartAsync(_fixture.Tracker.GrpcUrl));
            }

            var downloads = await Task.WhenAll(peers.Select((p, i) => p.DownloadAsync(metaInfo, Path.Combine(dir, $"peer{i}"))));
            await Task.WhenAll(downloads.Select(d => d.Completion)).WaitAsync(Timeout);

            for (var i = 0; i < peers.Count; i++)
            {
                Assert.Equal(blob.Digest, SwarmBlob.DigestOf(Path.Combine(dir, $"peer{i}")));
            }

            var originSent = await SwarmFixture.OriginBytesUploadedAsync(_fixture.Origin) - uploadedBefore;
            var stats = peers.Select(p => p.Statistics(metaInfo)).ToList();
            var fromPeers = stats.Sum(s => s.BytesDownloaded - s.BytesFromOrigins);
            var uploadedByPeers = stats.Sum(s => s.BytesUploaded);
            _output.WriteLine($"blob {blob.Length} B; origin sent {originSent} B ({(double)originSent / blob.Length:0.00} copies); peers got {fromPeers} B from each other, uploaded {uploadedByPeers} B");
            Assert.True(originSent <= 3 * blob.Length, $"the origin sent {originSent} bytes, {(double)originSent / blob.Length:0.00} copies");
            Assert.True(fromPeers >= blob.Length, $"peers exchanged only {fromPeers} bytes among themselves");
            Assert.True(uploadedByPeers >= fromPeers);
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
        }
    }

    /// <summary>A .torrent around our info dictionary: <c>d8:announce…4:info&lt;MetaInfo.Encoded&gt;e</c>.</summary>
    internal static void WriteTorrent(string path, MetaInfo metaInfo, Uri announce)
    {
        var url = System.Text.Encoding.ASCII.GetBytes(announce.AbsoluteUri);
        using var torrent = File.Create(path);
        torrent.Write(System.Text.Encoding.ASCII.GetBytes($"d8:announce{url.Length}:"));
        torrent.Write(url);
        torrent.Write("4:info"u8);
        torrent.Write(metaInfo.Encoded.Span);
        torrent.Write("e"u8);
    }
}

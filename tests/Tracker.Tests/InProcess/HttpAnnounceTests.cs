using System.Net;
using Grpc.Core;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Testing.Fakes;

namespace P2PRegistry.Tracker.Tests.InProcess;

public sealed class HttpAnnounceTests : IAsyncLifetime
{
    private static readonly byte[] s_httpPeerId = [.. "-AR1360-"u8, 0x01, 0x02, 0xFF, 0x00, .. "zzzzzzzz"u8];
    private FakeOrigin _origin = null!;
    private TrackerHost _tracker = null!;

    public async Task InitializeAsync()
    {
        _origin = await FakeOrigin.StartAsync();
        _tracker = await TrackerHost.StartAsync(_origin.Url, TrackerHost.LoopbackTrusted);
    }

    public async Task DisposeAsync()
    {
        await _tracker.DisposeAsync();
        await _origin.DisposeAsync();
    }

    private static CallOptions Deadline => new(deadline: DateTime.UtcNow.AddSeconds(30));

    private static string Escape(ReadOnlySpan<byte> bytes) => Bep3Announces.Escape(bytes);

    private async Task<BencodeDictionary> GetAnnounceAsync(InfoHash infoHash, string rest)
    {
        using var response = await _tracker.Http.GetAsync($"announce?info_hash={Escape(infoHash.ToArray())}&peer_id={Escape(s_httpPeerId)}{rest}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        return Assert.IsType<BencodeDictionary>(BencodeDecoder.Decode(body));
    }

    [Fact]
    public async Task Announce_UnknownInfoHash_AnswersFailureReason()
    {
        var dictionary = await GetAnnounceAsync(InfoHash.Compute("nobody knows"u8), "&port=6881&left=0&compact=1");

        Assert.Contains("unknown info_hash", dictionary.GetString("failure reason")!.Text);
        Assert.Null(dictionary["peers"]);
    }

    [Fact]
    public async Task Announce_Malformed_AnswersFailureReason()
    {
        using var response = await _tracker.Http.GetAsync("announce?info_hash=%01&port=1");
        var dictionary = Assert.IsType<BencodeDictionary>(BencodeDecoder.Decode(await response.Content.ReadAsByteArrayAsync()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("info_hash", dictionary.GetString("failure reason")!.Text);
    }

    [Fact]
    public async Task Announce_SwarmKnownFromMetaInfo_ReturnsCompactPeersAndJoinsSwarm()
    {
        var metaInfo = TestMetaInfos.Create();
        _origin.Serve(metaInfo);
        await _tracker.Client.GetMetaInfoAsync(new GetMetaInfoRequest { Digest = metaInfo.Digest.Value }, Deadline);
        await _tracker.Client.AnnounceAsync(Announces.Request(metaInfo.InfoHash, 7, complete: true, ip: "10.1.2.3"), Deadline);

        var dictionary = await GetAnnounceAsync(metaInfo.InfoHash, "&port=51413&uploaded=0&downloaded=0&left=1048576&event=started&compact=1");

        Assert.True(dictionary.TryGetInteger("interval", out var interval));
        Assert.Equal(2, interval); // downloading
        Assert.True(dictionary.TryGetInteger("min interval", out _));
        Assert.Equal(new byte[] { 10, 1, 2, 3, (6007 >> 8) & 0xFF, 6007 & 0xFF }, dictionary.GetString("peers")!.Value.ToArray());

        // And the HTTP peer is now handed to gRPC peers, id and all.
        var response = await _tracker.Client.AnnounceAsync(Announces.Request(metaInfo.InfoHash, 8), Deadline);
        var httpPeer = Assert.Single(response.Peers, p => p.Port == 51413);
        Assert.Equal("127.0.0.1", httpPeer.Ip);
        Assert.Equal(s_httpPeerId, httpPeer.PeerId.ToByteArray());
        Assert.False(httpPeer.Complete);
    }

    [Fact]
    public async Task Announce_SwarmKnownFromGrpcAnnounce_CompactZeroGivesDictionaries()
    {
        var infoHash = InfoHash.Compute("grpc only"u8);
        _tracker.Know(infoHash);
        await _tracker.Client.AnnounceAsync(Announces.Request(infoHash, 7, complete: true, ip: "10.1.2.3"), Deadline);

        var dictionary = await GetAnnounceAsync(infoHash, "&port=51413&left=0&compact=0");

        var peer = Assert.IsType<BencodeDictionary>(Assert.Single(dictionary.GetList("peers")!.Items));
        Assert.Equal("10.1.2.3", peer.GetString("ip")!.Text);
        Assert.True(peer.TryGetInteger("port", out var port));
        Assert.Equal(6007, port);
        Assert.Equal(TestPeers.Id(7).ToArray(), peer.GetString("peer id")!.Value.ToArray());
        Assert.True(dictionary.TryGetInteger("interval", out var interval));
        Assert.Equal(30, interval); // left=0: seeding
    }

    [Fact]
    public async Task Announce_Stopped_RemovesHttpPeer()
    {
        var infoHash = InfoHash.Compute("stop"u8);
        _tracker.Know(infoHash);
        await _tracker.Client.AnnounceAsync(Announces.Request(infoHash, 7), Deadline);
        await GetAnnounceAsync(infoHash, "&port=51413&left=5&event=started");

        await GetAnnounceAsync(infoHash, "&port=51413&left=5&event=stopped");
        var response = await _tracker.Client.AnnounceAsync(Announces.Request(infoHash, 8), Deadline);

        Assert.Equal(Announces.PeerId(7), Assert.Single(response.Peers).PeerId);
    }

    [Fact]
    public async Task Torrent_KnownBlob_IsTorrentWithTheSameInfoHash()
    {
        var metaInfo = TestMetaInfos.Create();
        _origin.Serve(metaInfo);

        using var response = await _tracker.Http.GetAsync($"p2p/v1/torrent/{metaInfo.Digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-bittorrent", response.Content.Headers.ContentType!.MediaType);
        var torrent = Assert.IsType<BencodeDictionary>(BencodeDecoder.Decode(await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal($"http://{_tracker.HttpEndPoint}/announce", torrent.GetString("announce")!.Text);
        var info = torrent.GetDictionary("info")!;
        Assert.Equal(metaInfo.InfoHash, InfoHash.Compute(info.Raw.Span));
        Assert.Equal(metaInfo.InfoHash, MetaInfo.FromInfoDictionary(info).InfoHash);
    }

    [Fact]
    public async Task Torrent_UnknownBlob_Is404AndMalformedIs400()
    {
        using var unknown = await _tracker.Http.GetAsync($"p2p/v1/torrent/{TestMetaInfos.Create().Digest}");
        using var malformed = await _tracker.Http.GetAsync("p2p/v1/torrent/sha256:nothex");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }
}

public sealed class TrackerStartTests
{
    [Fact]
    public void Build_InvalidOptions_FailsWithEveryBadKeyInTheMessage()
    {
        // Kestrel reads the endpoints while the app is built, so a bad setting stops it there, before any port opens.
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TrackerApp.Build(["--Tracker:GrpcUrl=http://127.0.0.1:0", "--Tracker:HttpUrl=https://127.0.0.1:0", "--Tracker:OriginUrl=nope", "--Logging:LogLevel:Default=None"]));

        Assert.Contains("Tracker:HttpUrl", ex.Message);
        Assert.Contains("Tracker:OriginUrl", ex.Message);
    }
}

using System.Net;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Peers;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>The hostile-peer kit (tests/Testing/Peers) against a real engine seeding on 127.0.0.1: the kit itself works.</summary>
public sealed class PeerKitTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();
    private readonly TestBlob _blob = TestBlob.Create(300_000, 64 * 1024, seed: 3);
    private TestNode _seed = null!;

    private IPEndPoint SeedEndPoint => new(IPAddress.Loopback, _seed.Port);

    public async Task InitializeAsync()
    {
        _seed = await TestNode.StartAsync(new FakeTracker(), o => o.HandshakeTimeout = TimeSpan.FromSeconds(2));
        _seed.Engine.Seed(_blob.MetaInfo, _blob.WriteTo(_dir.Path));
    }

    public async Task DisposeAsync()
    {
        await _seed.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task ConnectAndHandshake_SeedAnswers_HandshakeAndFullBitfieldReceived()
    {
        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(SeedEndPoint, _blob.MetaInfo.InfoHash);

        Assert.Equal(_blob.MetaInfo.InfoHash, peer.TheirHandshake!.Value.InfoHash);
        Assert.Equal(_seed.Engine.PeerId, peer.TheirHandshake!.Value.PeerId);
        var bitfield = await peer.WaitForAsync(m => m.Type == PeerMessageType.Bitfield, Timeout);
        Assert.NotNull(bitfield);
        var bits = new Bitfield(_blob.MetaInfo.PieceCount);
        Assert.True(bits.TryReadFrom((ReadOnlyMemory<byte>)bitfield.Payload, out _));
        Assert.True(bits.AllSet);
        Assert.Equal(1, peer.Received(PeerMessageType.Bitfield));
    }

    [Fact]
    public async Task Request_AfterInterestedAndUnchoke_ReceivesTheRightBlock()
    {
        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(SeedEndPoint, _blob.MetaInfo.InfoHash);

        await peer.SendInterestedAsync();
        Assert.NotNull(await peer.WaitForAsync(m => m.Type == PeerMessageType.Unchoke, Timeout));
        await peer.SendRequestAsync(index: 2, begin: 1024, length: 4096);
        var piece = await peer.WaitForAsync(m => m.Type == PeerMessageType.Piece, Timeout);

        Assert.NotNull(piece);
        Assert.Equal((2, 1024), (piece.Index, piece.Begin));
        Assert.Equal(_blob.Piece(2).Slice(1024, 4096).ToArray(), piece.Payload);
    }

    [Fact]
    public async Task DownloadAsync_FromSeed_ReturnsTheBlob()
    {
        await using var peer = await HostilePeer.ConnectAsync(SeedEndPoint, Loopback.Address(9));
        Assert.NotNull(await peer.HandshakeAsync(_blob.MetaInfo.InfoHash));

        Assert.Equal(_blob.Content, await peer.DownloadAsync(_blob.MetaInfo).WaitAsync(Timeout));
    }

    [Fact]
    public async Task SendCancelFloodAsync_BoundedByCount_SendsExactlyThatMany()
    {
        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(SeedEndPoint, _blob.MetaInfo.InfoHash);

        var sent = await peer.SendCancelFloodAsync(10_000, Timeout);

        Assert.Equal(10_000, sent);
        Assert.Equal(Handshake.Length + (10_000 * 17), peer.BytesSent);
    }

    [Fact]
    public async Task Connect_FromAnotherLoopbackAddress_ConnectionComesFromIt()
    {
        var source = Loopback.Address(77);
        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(SeedEndPoint, _blob.MetaInfo.InfoHash, localAddress: source);

        Assert.Equal(source, peer.LocalEndPoint.Address);
        Assert.Equal(_seed.Engine.PeerId, peer.TheirHandshake!.Value.PeerId);
    }

    [Fact]
    public async Task Connect_OutsideLoopback_Refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => HostilePeer.ConnectAsync(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1)));
        await Assert.ThrowsAsync<ArgumentException>(() => HostilePeer.ConnectAsync(SeedEndPoint, IPAddress.Parse("127.0.1.1")));
    }

    [Fact]
    public async Task Handshake_UnknownInfoHash_SeedClosesTheConnection()
    {
        await using var peer = await HostilePeer.ConnectAsync(SeedEndPoint);
        await peer.SendHandshakeAsync(new InfoHash(new byte[InfoHash.Length]), PeerId.CreateRandom());

        Assert.True(await peer.WaitForCloseAsync(Timeout));
        Assert.True(peer.RemoteClosed);
    }

    [Fact]
    public async Task Handshake_ClaimingTheSeedsOwnPeerId_SeedClosesTheConnection()
    {
        await using var peer = await HostilePeer.ConnectAsync(SeedEndPoint);
        await peer.SendHandshakeAsync(_blob.MetaInfo.InfoHash, _seed.Engine.PeerId);

        Assert.True(await peer.WaitForCloseAsync(Timeout));
        Assert.Null(peer.TheirHandshake);
    }

    [Fact]
    public async Task SocketFlood_SilentConnections_SeedClosesEachAfterItsHandshakeTimeout()
    {
        await using var flood = await SocketFlood.OpenAsync(SeedEndPoint, 8, FloodMode.Silent);

        Assert.Equal(8, flood.Connected);
        Assert.True(await flood.WaitForClosedAsync(8, Timeout), $"{flood.ClosedByServer} of 8 closed");
        Assert.Equal(0, flood.StillOpen);
    }

    [Fact]
    public async Task SocketFlood_HandshakeThenKeepAlives_SeedKeepsThemOpen()
    {
        await using var flood = await SocketFlood.OpenAsync(SeedEndPoint, 4, FloodMode.HandshakeThenKeepAlives, _blob.MetaInfo.InfoHash, keepAliveInterval: TimeSpan.FromMilliseconds(200));

        // Past the 2 s handshake timeout: the handshaken ones are sessions now, kept alive.
        await using var probe = await HostilePeer.ConnectAsync(SeedEndPoint);
        Assert.True(await probe.WaitForCloseAsync(Timeout), "the silent probe outlived the handshake timeout");
        Assert.Equal(4, flood.Connected);
        Assert.Equal(4, flood.StillOpen);
    }

    [Fact]
    public async Task ScriptedPeerListener_EngineDialsIt_CorrectAnswersComplete()
    {
        var tracker = new FakeTracker();
        await using var peer = new ScriptedPeerListener(_blob, PieceAnswer.Correct);
        tracker.AddPeer(_blob.MetaInfo.InfoHash, peer.EndPoint);
        await using var leecher = await TestNode.StartAsync(tracker);

        var download = await leecher.Engine.StartDownloadAsync(_blob.MetaInfo, _dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(_blob.Content, await File.ReadAllBytesAsync(_dir.Combine("leech")));
        Assert.True(peer.Connections >= 1);
        Assert.True(peer.BlocksSent >= _blob.MetaInfo.PieceCount);
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Origin.Seeding;

namespace P2PRegistry.Origin.Tests.Seeding;

/// <summary>The origin seeds every blob it holds from its peer port, on demand, speaking BEP 3 to a raw socket here.</summary>
public sealed class OriginSeedingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task MetaInfo_CarriesOriginPeerHeader_WithTheBoundPeerPort()
    {
        await using var origin = await OriginServer.StartAsync();
        var digest = await origin.PushBlobAsync("seed/header", OriginServer.RandomBytes(10_000, 1));

        using var response = await origin.Client.GetAsync($"/p2p/v1/metainfo/{digest.Value}");

        var header = IPEndPoint.Parse(Assert.Single(response.Headers.GetValues("X-P2P-Origin-Peer")));
        Assert.Equal(IPAddress.Loopback, header.Address);
        Assert.NotEqual(0, header.Port);
        Assert.Equal(origin.Services.GetRequiredService<PeerListener>().BoundEndPoint!.Port, header.Port);
    }

    [Fact]
    public async Task PeerPort_HandshakeForStoredBlob_ServesVerifiedBlocks()
    {
        await using var origin = await OriginServer.StartAsync();
        var content = OriginServer.RandomBytes(600_000, 2);
        var digest = await origin.PushBlobAsync("seed/blocks", content);
        var metaInfo = await MetaInfoOf(origin, digest);

        using var peer = await WirePeer.ConnectAsync(PeerEndPoint(origin), metaInfo.InfoHash);

        var bitfield = await peer.ReadUntilAsync(5);
        Assert.All(Enumerable.Range(0, metaInfo.PieceCount), i => Assert.True((bitfield[i / 8] & (0x80 >> (i % 8))) != 0));
        await peer.SendAsync(2, []); // interested
        await peer.ReadUntilAsync(1); // unchoke
        var request = new byte[12];
        BinaryPrimitives.WriteInt32BigEndian(request, 1);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(4), 16384);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), 16384);
        await peer.SendAsync(6, request);
        var piece = await peer.ReadUntilAsync(7);

        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(piece));
        Assert.Equal(16384, BinaryPrimitives.ReadInt32BigEndian(piece.AsSpan(4)));
        Assert.Equal(content.AsSpan(metaInfo.PieceLength + 16384, 16384).ToArray(), piece[8..]);
    }

    [Fact]
    public async Task PeerPort_HandshakeForUnknownInfoHash_Closed()
    {
        await using var origin = await OriginServer.StartAsync();

        using var peer = await WirePeer.ConnectAsync(PeerEndPoint(origin), InfoHash.Compute("nothing here"u8), expectHandshake: false);

        Assert.True(await peer.IsClosedAsync());
    }

    [Fact]
    public async Task Restart_IndexBuiltFromStoredMetaInfos_SeedsWithoutAMetaInfoRequest()
    {
        var storage = OriginServer.NewStoragePath();
        try
        {
            MetaInfo metaInfo;
            await using (var first = await OriginServer.StartAsync(storagePath: storage))
            {
                var digest = await first.PushBlobAsync("seed/restart", OriginServer.RandomBytes(300_000, 3));
                metaInfo = await MetaInfoOf(first, digest);
            }

            await using var second = await OriginServer.StartAsync(storagePath: storage);
            using var peer = await WirePeer.ConnectAsync(PeerEndPoint(second), metaInfo.InfoHash);

            Assert.NotEmpty(await peer.ReadUntilAsync(5)); // bitfield
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
        }
    }

    [Fact]
    public async Task IdleSeed_ClosedAfterIdleSeedTimeout_ReopenedByTheNextHandshake()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var origin = await OriginServer.StartAsync(["--Origin:Peer:IdleSeedTimeout=00:10:00"], configureServices: s => s.AddSingleton<TimeProvider>(time));
        var digest = await origin.PushBlobAsync("seed/idle", OriginServer.RandomBytes(100_000, 4));
        var metaInfo = await MetaInfoOf(origin, digest);
        var engine = origin.Services.GetRequiredService<P2PRegistry.Swarm.SwarmEngine>();
        using (var peer = await WirePeer.ConnectAsync(PeerEndPoint(origin), metaInfo.InfoHash))
        {
            await peer.ReadUntilAsync(5);
        }

        Assert.NotNull(engine.GetStatistics(metaInfo.InfoHash));
        var reaper = origin.Services.GetRequiredService<IdleSeedReaper>();
        time.Advance(TimeSpan.FromMinutes(5));
        await reaper.SweepAsync();
        Assert.NotNull(engine.GetStatistics(metaInfo.InfoHash)); // idle, but not for long enough
        time.Advance(TimeSpan.FromMinutes(6));
        await reaper.SweepAsync();
        Assert.Null(engine.GetStatistics(metaInfo.InfoHash));

        using var again = await WirePeer.ConnectAsync(PeerEndPoint(origin), metaInfo.InfoHash);
        Assert.NotEmpty(await again.ReadUntilAsync(5));
    }

    [Theory]
    [InlineData("--Origin:Peer:IdleSeedTimeout=00:00:00", "Origin:Peer:IdleSeedTimeout")]
    [InlineData("--Origin:Peer:Port=70000", "Origin:Peer:Port")]
    [InlineData("--Origin:Peer:Port=-1", "Origin:Peer:Port")]
    [InlineData("--Origin:Peer:Address=localhost", "Origin:Peer:Address")]
    [InlineData("--Origin:Peer:Address=0.0.0.0", "Origin:Peer:AdvertiseAddress")]
    [InlineData("--Origin:Peer:AdvertiseAddress=peer.lab", "Origin:Peer:AdvertiseAddress")]
    public async Task BadPeerSetting_FailsStart_NamingKey(string setting, string key)
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => OriginServer.StartAsync([setting]));

        Assert.Contains(key, exception.Message, StringComparison.Ordinal);
    }

    private static IPEndPoint PeerEndPoint(OriginServer origin) => origin.Services.GetRequiredService<PeerListener>().BoundEndPoint!;

    private static async Task<MetaInfo> MetaInfoOf(OriginServer origin, Digest digest) =>
        MetaInfo.Decode(await origin.Client.GetByteArrayAsync($"/p2p/v1/metainfo/{digest.Value}"));

    /// <summary>A minimal BEP 3 peer over a socket: handshake, then length-prefixed messages.</summary>
    private sealed class WirePeer : IDisposable
    {
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;

        private WirePeer(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
        }

        public static async Task<WirePeer> ConnectAsync(IPEndPoint endPoint, InfoHash infoHash, bool expectHandshake = true)
        {
            var client = new TcpClient();
            await client.ConnectAsync(endPoint).WaitAsync(Timeout);
            var peer = new WirePeer(client);
            var handshake = new byte[68];
            handshake[0] = 19;
            "BitTorrent protocol"u8.CopyTo(handshake.AsSpan(1));
            infoHash.ToArray().CopyTo(handshake.AsSpan(28));
            "-TEST00-000000000000"u8.CopyTo(handshake.AsSpan(48));
            await peer._stream.WriteAsync(handshake);
            if (expectHandshake)
            {
                var answer = await peer.ReadExactlyAsync(68);
                Assert.Equal(infoHash.ToArray(), answer[28..48]);
            }

            return peer;
        }

        public async Task SendAsync(byte id, byte[] payload)
        {
            var frame = new byte[5 + payload.Length];
            BinaryPrimitives.WriteInt32BigEndian(frame, 1 + payload.Length);
            frame[4] = id;
            payload.CopyTo(frame, 5);
            await _stream.WriteAsync(frame);
        }

        /// <summary>Reads messages until one with <paramref name="id"/> arrives; returns its payload.</summary>
        public async Task<byte[]> ReadUntilAsync(byte id)
        {
            for (var i = 0; i < 100; i++)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(await ReadExactlyAsync(4));
                if (length == 0)
                {
                    continue; // keep-alive
                }

                var message = await ReadExactlyAsync(length);
                if (message[0] == id)
                {
                    return message[1..];
                }
            }

            throw new InvalidOperationException($"No message {id} in 100.");
        }

        public async Task<bool> IsClosedAsync()
        {
            try
            {
                var buffer = new byte[1];
                return await _stream.ReadAsync(buffer).AsTask().WaitAsync(Timeout) == 0;
            }
            catch (IOException)
            {
                return true;
            }
        }

        public void Dispose() => _client.Dispose();

        private async Task<byte[]> ReadExactlyAsync(int count)
        {
            var buffer = new byte[count];
            await _stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(Timeout);
            return buffer;
        }
    }
}

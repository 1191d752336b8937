using System.Net;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tests.Engine;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Peers;

namespace P2PRegistry.Swarm.Tests.Attacks;

/// <summary>
/// Each attack of issue 15 performed on real 127.0.0.x sockets against a real engine, with the hostile-peer kit: the
/// attacker gets nowhere and real downloads complete. The attackers bind to other loopback addresses than the honest
/// nodes, as they would come from other hosts.
/// </summary>
public sealed class PeerAttackTests
{
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly IPAddress AttackerAddress = Loopback.Address(66);

    internal static IPEndPoint EndPointOf(TestNode node) => new(IPAddress.Loopback, node.Port);

    internal static async Task<HostilePeer> UnchokedAsync(TestNode seed, TestBlob blob, PeerId? claim = null)
    {
        var peer = await HostilePeer.ConnectAndHandshakeAsync(EndPointOf(seed), blob.MetaInfo.InfoHash, claim, AttackerAddress, Timeout);
        await peer.SendInterestedAsync();
        Assert.NotNull(await peer.WaitForAsync(m => m.Type == PeerMessageType.Unchoke, Timeout));
        return peer;
    }

    [Fact]
    public async Task KeepAliveSessions_HoldEveryConnectionSlot_IdleOnesMakeRoomForARealDownload()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(2 * 1024 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker, o => o.MaxConnectionsPerSwarm = 4);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        await using var flood = await SocketFlood.OpenAsync(EndPointOf(seed), 4, FloodMode.HandshakeThenKeepAlives, blob.MetaInfo.InfoHash, AttackerAddress, TimeSpan.FromMilliseconds(200));
        Assert.Equal(4, flood.Connected);

        await using var leecher = await TestNode.StartAsync(tracker);
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.True(flood.ClosedByServer >= 1, "no keep-alive-only session was dropped to make room");
    }

    [Fact]
    public async Task InterestedPeersThatNeverAsk_HoldEveryUploadSlot_RotationServesARealDownload()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(2 * 1024 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker, o =>
        {
            o.UploadSlotsPerSwarm = 2;
            o.UploadSlotRotation = TimeSpan.FromMilliseconds(500);
        });
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        await using var first = await UnchokedAsync(seed, blob);
        await using var second = await UnchokedAsync(seed, blob);

        await using var leecher = await TestNode.StartAsync(tracker);
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.True(first.Received(PeerMessageType.Choke) + second.Received(PeerMessageType.Choke) >= 1);
    }

    [Fact]
    public async Task SecondSessionClaimingAConnectedPeersId_Refused_TheFirstKeepsDownloading()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(4 * 1024 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker, o => o.EgressBytesPerSecond = 2 * 1024 * 1024);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        await using var leecher = await TestNode.StartAsync(tracker);
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        var swarm = leecher.Engine.FindSwarm(blob.MetaInfo.InfoHash)!;
        await PollAsync(() => swarm.SessionCount == 1 && download.VerifiedPieces > 0);

        // The seed's id, learned from one handshake, claimed from another host.
        await using var impostor = await HostilePeer.ConnectAndHandshakeAsync(EndPointOf(leecher), blob.MetaInfo.InfoHash, seed.Engine.PeerId, AttackerAddress, Timeout);
        Assert.True(await impostor.WaitForCloseAsync(Timeout));
        Assert.Equal(1, swarm.SessionCount);
        await download.Completion.WaitAsync(Timeout);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.Equal(0, download.Statistics.PiecesFailed);
    }

    [Fact]
    public async Task LiarClaimingTheOriginsId_BlamedByItsAddress_TheRealOriginStillServes()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(4 * 256 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var origin = await TestNode.StartAsync(tracker);
        await using var leecher = await TestNode.StartAsync(tracker);
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));

        // Before the origin is known, a liar connects claiming its id, shows every piece and answers with junk.
        await using (var liar = await HostilePeer.ConnectAndHandshakeAsync(EndPointOf(leecher), blob.MetaInfo.InfoHash, origin.Engine.PeerId, AttackerAddress, Timeout))
        {
            await liar.SendAsync(Frames.FullBitfield(blob.MetaInfo.PieceCount));
            await liar.SendAsync(Frames.Unchoke());
            await AnswerWithJunkUntilClosedAsync(liar, blob);
        }

        Assert.True(download.Statistics.PiecesFailed >= 1);
        Assert.Equal(1, leecher.Engine.BlacklistedCount);

        // The real origin, with the id the liar claimed, is still dialled and serves the blob.
        origin.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "origin"));
        tracker.MarkOrigin(origin.Engine.PeerId);
        await download.Completion.WaitAsync(Timeout);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
    }

    [Fact]
    public async Task PeerAnswersEveryRequestWithBlocksNobodyAskedFor_Snubbed_TheOriginServesThem()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(4 * 256 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var origin = await TestNode.StartAsync(tracker);
        await using var leecher = await TestNode.StartAsync(tracker, o => o.StallTimeout = TimeSpan.FromSeconds(1));
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));

        // A peer holding every piece takes the requests and answers each with a block of another piece, forever.
        await using var hostage = await HostilePeer.ConnectAndHandshakeAsync(EndPointOf(leecher), blob.MetaInfo.InfoHash, localAddress: AttackerAddress, timeout: Timeout);
        await hostage.SendAsync(Frames.FullBitfield(blob.MetaInfo.PieceCount));
        await hostage.SendAsync(Frames.Unchoke());
        using var stop = new CancellationTokenSource();
        var requests = 0;
        var answering = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && await hostage.ReadMessageAsync(Timeout, stop.Token) is { } message)
            {
                if (message.Type == PeerMessageType.Request)
                {
                    Interlocked.Increment(ref requests);
                    var other = (uint)((message.Index + 1) % blob.MetaInfo.PieceCount);
                    await hostage.SendPieceAsync(other, (uint)message.Begin, new byte[message.Length], stop.Token);
                }
            }
        });
        await PollAsync(() => Volatile.Read(ref requests) > 0 && download.Statistics.BytesWasted > 0);

        // Then the origin appears (asked only for what no serving peer holds): the taker's requests go to it once it is snubbed.
        origin.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "origin"));
        tracker.MarkOrigin(origin.Engine.PeerId);
        await download.Completion.WaitAsync(Timeout);
        await stop.CancelAsync();
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.Equal(blob.MetaInfo.Length, download.Statistics.BytesFromOrigins);
        await Task.WhenAny(answering, Task.Delay(Timeout));
    }

    [Fact]
    public async Task MalformedBitfieldAfterAValidOne_Closed_AvailabilityRemovedOnce()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(4 * 256 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var leecher = await TestNode.StartAsync(tracker);
        await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        var swarm = leecher.Engine.FindSwarm(blob.MetaInfo.InfoHash)!;

        // An honest peer holds every piece too (it says nothing more), so a second removal would show.
        await using var honest = await HostilePeer.ConnectAndHandshakeAsync(EndPointOf(leecher), blob.MetaInfo.InfoHash, localAddress: Loopback.Address(67), timeout: Timeout);
        await honest.SendAsync(Frames.FullBitfield(blob.MetaInfo.PieceCount));
        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(EndPointOf(leecher), blob.MetaInfo.InfoHash, localAddress: AttackerAddress, timeout: Timeout);
        await peer.SendAsync(Frames.FullBitfield(blob.MetaInfo.PieceCount));
        await PollAsync(() => swarm.AvailabilityOf(0) == 2);
        await peer.SendAsync(Frames.Bitfield(new byte[7])); // 4 pieces take 1 byte
        Assert.True(await peer.WaitForCloseAsync(Timeout));
        await PollAsync(() => swarm.SessionCount == 1);

        for (var piece = 0; piece < blob.MetaInfo.PieceCount; piece++)
        {
            Assert.Equal(1, swarm.AvailabilityOf(piece));
        }
    }

    [Fact]
    public async Task Bitfields_EachAddingAPiece_AsAria2cSendsThem_AreAllAccepted()
    {
        // aria2c (DefaultBtInteractive::checkHave) sends its whole bitfield instead of haves whenever that is no larger:
        // for a blob of up to 32 pieces, at every new piece. One bitfield per piece it gained is a real client's.
        using var dir = new TempDirectory();
        const int pieces = 16;
        var blob = TestBlob.Create(pieces * 16 * 1024, 16 * 1024);
        await using var leecher = await TestNode.StartAsync(new FakeTracker());
        await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        var swarm = leecher.Engine.FindSwarm(blob.MetaInfo.InfoHash)!;
        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(EndPointOf(leecher), blob.MetaInfo.InfoHash, localAddress: AttackerAddress, timeout: Timeout);

        var bits = new byte[2];
        for (var piece = 0; piece < pieces - 1; piece++)
        {
            bits[piece / 8] |= (byte)(0x80 >> (piece % 8));
            await peer.SendAsync(Frames.Bitfield(bits));
        }

        await PollAsync(() => swarm.AvailabilityOf(pieces - 2) == 1);
        Assert.False(peer.RemoteClosed);
        Assert.Equal(1, swarm.SessionCount);
    }

    [Fact]
    public async Task Bitfields_EachAddingOnePieceToALargeBitfield_Counted_SessionClosed()
    {
        // 1,024 pieces: a bitfield of 133 bytes for one new piece is larger than the have it stands for (aria2c would
        // send the have), so each counts; otherwise take-one-away, then add-one-back bitfields would scan for free.
        using var dir = new TempDirectory();
        const int pieces = 1024;
        var blob = TestBlob.Create(pieces * 16 * 1024, 16 * 1024);
        await using var leecher = await TestNode.StartAsync(new FakeTracker());
        await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(EndPointOf(leecher), blob.MetaInfo.InfoHash, localAddress: AttackerAddress, timeout: Timeout);

        var bits = new byte[pieces / 8];
        for (var piece = 0; piece <= P2PRegistry.Swarm.BlobSwarm.MaxBitfieldsPerPeer + 1; piece++)
        {
            bits[piece / 8] |= (byte)(0x80 >> (piece % 8));
            await peer.SendAsync(Frames.Bitfield(bits));
        }

        Assert.True(await peer.WaitForCloseAsync(Timeout));
    }

    [Fact]
    public async Task Bitfields_TheSameOneOverAndOver_SessionClosed()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(4 * 16 * 1024, 16 * 1024);
        await using var seed = await TestNode.StartAsync(new FakeTracker());
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(EndPointOf(seed), blob.MetaInfo.InfoHash, localAddress: AttackerAddress, timeout: Timeout);

        for (var i = 0; i <= P2PRegistry.Swarm.BlobSwarm.MaxBitfieldsPerPeer + 1; i++)
        {
            await peer.SendAsync(Frames.Bitfield([0x80]));
        }

        Assert.True(await peer.WaitForCloseAsync(Timeout));
    }

    [Theory]
    [InlineData(1, P2PRegistry.Swarm.Sessions.PeerSession.MaxExtensionHandshakeLength + 500)] // under the frame limit, over ours
    [InlineData(P2PRegistry.Swarm.Sessions.PeerSession.MaxExtensionHandshakes + 1, 40)]
    public async Task ExtensionHandshakes_TooLargeOrTooMany_SessionClosed(int count, int size)
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(256 * 1024, 256 * 1024);
        await using var seed = await TestNode.StartAsync(new FakeTracker());
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(EndPointOf(seed), blob.MetaInfo.InfoHash, localAddress: AttackerAddress, timeout: Timeout);

        // A valid bencoded dictionary of the given size: {"v": "xxx…"}.
        var text = new string('x', size - 10);
        var payload = System.Text.Encoding.ASCII.GetBytes($"d1:v{text.Length}:{text}e");
        for (var i = 0; i < count; i++)
        {
            await peer.SendExtensionHandshakeAsync(payload);
        }

        Assert.True(await peer.WaitForCloseAsync(Timeout));
    }

    [Fact]
    public async Task CorruptPieceFromAPeerInOneSwarm_RefusedThereOnly_ItsOtherBlobStillDownloads()
    {
        using var dir = new TempDirectory();
        var bad = TestBlob.Create(2 * 256 * 1024, 256 * 1024, seed: 3);
        var good = TestBlob.Create(2 * 256 * 1024, 256 * 1024, seed: 4);
        var tracker = new FakeTracker();
        await using var origin = await TestNode.StartAsync(tracker, o => o.VerifySeedsOnFirstRead = false);
        var badPath = bad.WriteTo(dir.Path, "bad");
        FileDamage.FlipByte(badPath, 100); // one bad sector

        origin.Engine.Seed(bad.MetaInfo, badPath);
        origin.Engine.Seed(good.MetaInfo, good.WriteTo(dir.Path, "good"));
        tracker.MarkOrigin(origin.Engine.PeerId);
        await using var leecher = await TestNode.StartAsync(tracker);

        var badDownload = await leecher.Engine.StartDownloadAsync(bad.MetaInfo, dir.Combine("bad-leech"));
        await PollAsync(() => badDownload.Statistics.PiecesFailed >= 1);
        Assert.Equal(1, leecher.Engine.BlacklistedCount);

        var goodDownload = await leecher.Engine.StartDownloadAsync(good.MetaInfo, dir.Combine("good-leech"));
        await goodDownload.Completion.WaitAsync(Timeout);
        Assert.Equal(good.Content, File.ReadAllBytes(dir.Combine("good-leech")));
    }

    private static async Task AnswerWithJunkUntilClosedAsync(HostilePeer liar, TestBlob blob)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline && await liar.ReadMessageAsync(Timeout) is { } message)
        {
            if (message.Type == PeerMessageType.Request)
            {
                await liar.SendPieceAsync((uint)message.Index, (uint)message.Begin, new byte[message.Length]);
            }
        }

        Assert.True(liar.RemoteClosed, "the liar was never closed");
    }

    private static async Task PollAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(20);
        }
    }
}

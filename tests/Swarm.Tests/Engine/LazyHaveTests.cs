using System.Net;
using System.Text;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Peers;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>
/// A peer that says it needs no <c>have</c> for a piece it has (extension handshake <c>p2pregistry_lazy_have</c>, what
/// our agents send) is told only of the pieces it lacks; a standard client, or one that super-seeds, hears of every one.
/// </summary>
public sealed class LazyHaveTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(true, new[] { 2, 3 })]
    [InlineData(false, new[] { 0, 1, 2, 3 })]
    public async Task DownloadCompletes_HavesSentToAPeerThatShowedPieces(bool lazyHave, int[] expected)
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1024 * 1024, 256 * 1024); // 4 pieces
        var tracker = new FakeTracker();
        await using var leecher = await TestNode.StartAsync(tracker);
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));

        // A peer that shows pieces 0 and 1 and never unchokes.
        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(new IPEndPoint(IPAddress.Loopback, leecher.Port), blob.MetaInfo.InfoHash);
        await peer.SendExtensionHandshakeAsync(Encoding.ASCII.GetBytes(lazyHave ? "d21:p2pregistry_lazy_havei1ee" : "d1:mdee"));
        var shown = new Bitfield(blob.MetaInfo.PieceCount);
        shown.Set(0);
        shown.Set(1);
        await peer.SendBitfieldAsync(shown.ToArray());
        Assert.NotNull(await peer.WaitForAsync(m => m.Type == PeerMessageType.Interested, Timeout));

        await using var seed = await TestNode.StartAsync(tracker);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        await download.Completion.WaitAsync(Timeout);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));

        // The complete node unchokes the peer once it is interested: that unchoke is queued after every have the
        // download sent, so the haves read before it are all there are.
        await peer.SendInterestedAsync();
        var haves = new List<int>();
        var fullBitfields = 0;
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero, $"no unchoke came; haves so far: {string.Join(", ", haves)}");
            var message = await peer.ReadMessageAsync(left);
            Assert.NotNull(message);
            if (message.Type == PeerMessageType.Have)
            {
                haves.Add(message.Index);
            }
            else if (message.Type == PeerMessageType.Bitfield && Bitfield.FromWire(new System.Buffers.ReadOnlySequence<byte>(message.Payload), blob.MetaInfo.PieceCount).AllSet)
            {
                fullBitfields++;
            }
            else if (message.Type == PeerMessageType.Unchoke)
            {
                break;
            }
        }

        haves.Sort();
        Assert.Equal(expected, haves);

        // The lazy peer never heard of pieces 0 and 1 from us: the full bitfield at completion tells it we are complete.
        Assert.Equal(lazyHave ? 1 : 0, fullBitfields);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)] // a super-seeding seed reveals the next piece when it hears of the last: it needs every have
    public async Task ExtensionHandshake_SaysLazyHave_UnlessTheNodeSuperSeeds(bool superSeed, bool expected)
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(512 * 1024, 256 * 1024);
        await using var node = await TestNode.StartAsync(new FakeTracker(), o => o.SuperSeed = superSeed);
        node.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));

        await using var peer = await HostilePeer.ConnectAndHandshakeAsync(new IPEndPoint(IPAddress.Loopback, node.Port), blob.MetaInfo.InfoHash);
        var message = await peer.WaitForAsync(m => m.Type == PeerMessageType.Extended && m.ExtensionId == ExtensionHandshake.HandshakeExtensionId, Timeout);

        Assert.NotNull(message);
        Assert.Equal(expected, ExtensionHandshake.Decode(new System.Buffers.ReadOnlySequence<byte>(message.Payload)).LazyHave);
    }
}

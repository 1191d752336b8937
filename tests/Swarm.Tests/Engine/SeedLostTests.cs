using System.Net;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Peers;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>
/// A download that loses one of its seeds goes on from the others, a super-seeding one included: such a seed shows a
/// few pieces and reveals the next only once it hears that the downloader has those (sent by it, or got elsewhere).
/// </summary>
public sealed class SeedLostTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PieceGotElsewhere_HaveSentToAPeerThatShowedIt()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(1024 * 1024, 256 * 1024); // 4 pieces
        var tracker = new FakeTracker();
        await using var leecher = await TestNode.StartAsync(tracker);
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));

        // A peer that shows piece 0 and never unchokes (as a super-seeding seed whose upload slots are taken).
        await using var shower = await HostilePeer.ConnectAndHandshakeAsync(new IPEndPoint(IPAddress.Loopback, leecher.Port), blob.MetaInfo.InfoHash);
        var shown = new Bitfield(blob.MetaInfo.PieceCount);
        shown.Set(0);
        await shower.SendBitfieldAsync(shown.ToArray());
        Assert.NotNull(await shower.WaitForAsync(m => m.Type == PeerMessageType.Interested, Timeout));

        // Only now a seed that serves: piece 0 comes from it, not from the peer that showed it.
        await using var seed = await TestNode.StartAsync(tracker);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        var have = shower.WaitForAsync(m => m.Type == PeerMessageType.Have && m.Index == 0, Timeout);
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.NotNull(await have);
    }

    [Fact]
    public async Task SeedDiesMidDownload_SuperSeedingSeedShowedOnlyPiecesGotFromTheDeadOne_DownloadCompletes()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(8 * 1024 * 1024, 256 * 1024); // 32 pieces
        var tracker = new FakeTracker();

        // The seed that dies serves at 2 MiB/s, so it is still serving when the super-seeding one joins.
        var dying = await TestNode.StartAsync(tracker, o => o.EgressBytesPerSecond = 2 * 1024 * 1024);
        var dead = false;
        try
        {
            dying.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "dying"));
            await using var leecher = await TestNode.StartAsync(tracker);
            var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
            download.Prioritize(0, blob.MetaInfo.PieceCount); // front to back, as a streaming reader fetches
            await download.WaitForPieceAsync(1, CancellationToken.None).WaitAsync(Timeout);

            // The super-seeding origin shows the front pieces the leecher lacks; the leecher, which asks an origin only
            // for what no other peer serves, keeps fetching them from the dying seed.
            await using var origin = await TestNode.StartAsync(tracker, o =>
            {
                o.SuperSeed = true;
                o.SuperSeedRevealBytes = 512 * 1024; // two pieces shown at a time
            });
            tracker.MarkOrigin(origin.Engine.PeerId);
            origin.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "origin"));
            var deadline = DateTime.UtcNow + Timeout;
            while (download.PeerCount < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "the leecher never connected to the origin");
                await Task.Delay(20);
            }

            var joinedAt = download.VerifiedPieces;
            await download.WaitForPieceAsync(Math.Min(joinedAt + 4, blob.MetaInfo.PieceCount - 2), CancellationToken.None).WaitAsync(Timeout);
            Assert.False(download.IsComplete, "the download ended before the seed died");
            dead = true;
            await dying.DisposeAsync();

            await download.Completion.WaitAsync(Timeout);
            Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
            Assert.True(download.Statistics.BytesFromOrigins > 0, "nothing came from the origin after the seed died");
        }
        finally
        {
            if (!dead)
            {
                await dying.DisposeAsync();
            }
        }
    }
}

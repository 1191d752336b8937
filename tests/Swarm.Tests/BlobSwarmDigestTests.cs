using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Swarm.Sessions;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Swarm.Tests;

/// <summary>The blob's running SHA-256 advances from the verified pieces' buffers, never reading them back from the disk.</summary>
public sealed class BlobSwarmDigestTests
{
    private const int PieceLength = 64 * 1024;
    private const int Pieces = 64;
    private const int HotPieces = Window; // pieces that verify ahead of the digest stay hot until it gets to them
    private const int Window = 8;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Digest_PiecesVerifiedInPairsOutOfOrder_TheGapFillerHashesTheHotPieceAtOnce_NothingReadBack()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Pieces * PieceLength, PieceLength);
        using var leech = new BlobSwarm(SwarmTestContext.Create(), PieceStore.OpenForDownload(blob.MetaInfo, dir.Combine("leech"), hotPieceBytes: HotPieces * PieceLength), download: true);
        Assert.True(leech.Store.UsesDirectIo);
        IPieceVerifierOwner owner = leech;

        // As two verifier workers finish: the second piece of each pair first, then the one it waited for.
        for (var piece = 0; piece < Pieces; piece += 2)
        {
            owner.OnPieceChecked(piece + 1, Buffer(blob, piece + 1), matches: true);
            Assert.Equal(piece, leech.DigestedPieces);
            owner.OnPieceChecked(piece, Buffer(blob, piece), matches: true);
            Assert.Equal(piece + 2, leech.DigestedPieces);
        }

        await leech.Completion.WaitAsync(Timeout);
        Assert.True(leech.IsComplete);
        Assert.Equal(0, leech.Store.BytesReadFromDisk);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
    }

    [Fact]
    public async Task Download_OneSeedInOrderTwoOrMoreVerifierWorkers_CompletesWithItsDigest_NothingReadBack()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(Pieces * PieceLength, PieceLength);
        using var seed = new BlobSwarm(SwarmTestContext.Create(), PieceStore.OpenComplete(blob.MetaInfo, blob.WriteTo(dir.Path, "seed")), download: false);
        using var leech = new BlobSwarm(SwarmTestContext.Create(), PieceStore.OpenForDownload(blob.MetaInfo, dir.Combine("leech"), hotPieceBytes: HotPieces * PieceLength), download: true, wantAll: false);
        Assert.True(leech.Store.UsesDirectIo);
        using var cts = new CancellationTokenSource(Timeout);

        // A streaming reader that asks for its next pieces only, so they come and verify in order, a few at once.
        leech.Want(0, Window);
        leech.Prioritize(0, Window);
        var reader = Task.Run(async () =>
        {
            for (var piece = 0; piece < Pieces; piece++)
            {
                await leech.WaitForPieceAsync(piece, cts.Token);
                if (piece + Window < Pieces)
                {
                    leech.Want(piece + Window, 1);
                }

                leech.Prioritize(piece + 1, Window);
            }
        });
        var (left, right) = SwarmTestContext.PipePair();
        var accept = PeerConnector.AcceptAsync(seed.Context, h => h == seed.InfoHash ? seed : null, right, null, cts.Token);
        var dialled = await PeerConnector.ConnectAsync(leech, left, null, null, cts.Token);
        var accepted = await accept;
        var sessions = Task.WhenAll(dialled.RunAsync(cts.Token), accepted.RunAsync(cts.Token));

        await reader.WaitAsync(Timeout);
        await leech.Completion.WaitAsync(Timeout);

        Assert.True(leech.IsComplete);
        Assert.Equal(0, leech.Store.BytesReadFromDisk);
        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        await sessions.WaitAsync(Timeout);
    }

    private static byte[] Buffer(TestBlob blob, int piece)
    {
        var buffer = PieceBuffers.Rent(PieceLength);
        blob.Piece(piece).CopyTo(buffer);
        return buffer;
    }
}

using System.Collections.Concurrent;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Swarm.Tests.Pieces;

/// <summary>
/// The SHA-1 check of completed pieces off the receive loop: every piece handed in comes back exactly once (checked
/// or dropped), a corrupt one as not matching, in order with one worker, never more than the capacity pending, and a
/// stop hands back what waits.
/// </summary>
public sealed class PieceVerifierTests
{
    private const int PieceLength = 16 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TryEnqueue_GoodAndCorruptPieces_EachCheckedOnceInOrderWithTheRightVerdict()
    {
        var blob = TestBlob.Create(8 * PieceLength, PieceLength);
        var owner = new RecordingOwner();
        var verifier = new PieceVerifier(blob.MetaInfo, owner, capacity: 8, workers: 1);

        for (var piece = 0; piece < 8; piece++)
        {
            var buffer = blob.Piece(piece).ToArray();
            if (piece % 3 == 1)
            {
                buffer[100] ^= 0xFF;
            }

            Assert.True(verifier.TryEnqueue(piece, buffer));
        }

        Assert.True(await Eventually.HoldsAsync(() => owner.Checked.Count == 8, Timeout));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], owner.Checked.Select(static c => c.Piece));
        Assert.Equal([true, false, true, true, false, true, true, false], owner.Checked.Select(static c => c.Matches));
        Assert.Empty(owner.Dropped);
        Assert.True(await Eventually.HoldsAsync(() => verifier.Pending == 0, Timeout));
    }

    [Fact]
    public async Task TryEnqueue_CapacityPending_RefusedAndTheCallerKeepsTheBuffer_CheckNowHandsItBack()
    {
        var blob = TestBlob.Create(4 * PieceLength, PieceLength);
        var owner = new RecordingOwner { Gate = new ManualResetEventSlim(false) };
        var verifier = new PieceVerifier(blob.MetaInfo, owner, capacity: 2, workers: 1);

        Assert.True(verifier.TryEnqueue(0, blob.Piece(0).ToArray()));
        Assert.True(owner.Entered.Wait(Timeout), "the first piece was never checked");
        Assert.True(verifier.TryEnqueue(1, blob.Piece(1).ToArray()));
        var refused = blob.Piece(2).ToArray();
        Assert.False(verifier.TryEnqueue(2, refused));
        Assert.Equal(2, verifier.Pending);

        // The refused piece is checked on the caller's thread, and comes back like the others.
        verifier.CheckNow(2, refused);
        Assert.Contains(owner.Checked, static c => c.Piece == 2 && c.Matches);

        owner.Gate.Set();
        Assert.True(await Eventually.HoldsAsync(() => owner.Checked.Count == 3 && verifier.Pending == 0, Timeout));
        Assert.True(verifier.TryEnqueue(3, blob.Piece(3).ToArray()));
        Assert.True(await Eventually.HoldsAsync(() => owner.Checked.Count == 4, Timeout));
        Assert.All(owner.Checked, static c => Assert.True(c.Matches));
    }

    [Fact]
    public async Task Stop_MidDownload_WaitingPiecesHandedBackAsDropped_LaterOnesDroppedAtOnce_NoneLost()
    {
        var blob = TestBlob.Create(6 * PieceLength, PieceLength);
        var owner = new RecordingOwner { Gate = new ManualResetEventSlim(false) };
        var verifier = new PieceVerifier(blob.MetaInfo, owner, capacity: 8, workers: 1);
        var handedIn = new List<byte[]>();
        for (var piece = 0; piece < 4; piece++)
        {
            var buffer = blob.Piece(piece).ToArray();
            handedIn.Add(buffer);
            Assert.True(verifier.TryEnqueue(piece, buffer));
            if (piece == 0)
            {
                Assert.True(owner.Entered.Wait(Timeout), "the first piece was never checked");
            }
        }

        verifier.Stop();
        Assert.Equal([1, 2, 3], owner.Dropped.Select(static d => d.Piece).Order());
        Assert.Equal(1, verifier.Pending);

        var late = blob.Piece(4).ToArray();
        handedIn.Add(late);
        Assert.True(verifier.TryEnqueue(4, late));
        Assert.Contains(owner.Dropped, static d => d.Piece == 4);

        // The piece being checked finishes and comes back checked; nothing else is checked after the stop.
        owner.Gate.Set();
        Assert.True(await Eventually.HoldsAsync(() => verifier.Pending == 0, Timeout));
        Assert.Equal([0], owner.Checked.Select(static c => c.Piece));

        // Every buffer came back exactly once.
        var returned = owner.Checked.Select(static c => c.Buffer).Concat(owner.Dropped.Select(static d => d.Buffer)).ToList();
        Assert.Equal(handedIn.Count, returned.Count);
        Assert.All(handedIn, buffer => Assert.Single(returned, r => ReferenceEquals(r, buffer)));
    }

    [Fact]
    public async Task TryEnqueue_ReturnsWithoutWaitingForTheCheck()
    {
        var blob = TestBlob.Create(PieceLength, PieceLength);
        var owner = new RecordingOwner { Gate = new ManualResetEventSlim(false) };
        var verifier = new PieceVerifier(blob.MetaInfo, owner, capacity: 1, workers: 1);

        // The check of piece 0 is held: a caller that checked inline would still be inside TryEnqueue.
        Assert.True(verifier.TryEnqueue(0, blob.Piece(0).ToArray()));
        Assert.Empty(owner.Checked);
        Assert.True(owner.Entered.Wait(Timeout), "the piece was never checked");

        owner.Gate.Set();
        Assert.True(await Eventually.HoldsAsync(() => owner.Checked.Count == 1, Timeout));
        Assert.True(owner.Checked.Single().Matches);
    }

    private sealed class RecordingOwner : IPieceVerifierOwner
    {
        public ConcurrentQueue<(int Piece, byte[] Buffer, bool Matches, int Thread)> Checked { get; } = new();

        public ConcurrentQueue<(int Piece, byte[] Buffer)> Dropped { get; } = new();

        /// <summary>When set, the check of piece 0 waits for it (bounded), after signalling <see cref="Entered"/>.</summary>
        public ManualResetEventSlim? Gate { get; init; }

        public ManualResetEventSlim Entered { get; } = new(false);

        public void OnPieceChecked(int piece, byte[] buffer, bool matches)
        {
            Entered.Set();
            if (piece == 0)
            {
                Gate?.Wait(Timeout);
            }

            Checked.Enqueue((piece, buffer, matches, Environment.CurrentManagedThreadId));
        }

        public void OnPieceDropped(int piece, byte[] buffer) => Dropped.Enqueue((piece, buffer));
    }
}

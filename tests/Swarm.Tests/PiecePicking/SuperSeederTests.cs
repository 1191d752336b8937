using Microsoft.Extensions.Time.Testing;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Tests.PiecePicking;

public sealed class SuperSeederTests
{
    private const int PieceSize = 64 * 1024;

    private static SuperSeeder Create(int pieces, int atOnce) => new(new SuperSeederSettings(pieces, _ => PieceSize, atOnce));

    private static List<int> AddPeer(SuperSeeder seeder, int peer, Bitfield pieces)
    {
        // A peer shown its first pieces says interested (as every downloader does): it takes part.
        var revealed = new List<int>();
        seeder.AddPeer(peer, pieces, revealed);
        seeder.OnInterested(peer, revealed);
        return revealed;
    }

    private static List<int> SendWhole(SuperSeeder seeder, int peer, int piece)
    {
        var revealed = new List<int>();
        for (var sent = 0; sent < PieceSize; sent += 16 * 1024)
        {
            seeder.OnBlockSent(peer, piece, 16 * 1024, revealed);
        }

        return revealed;
    }

    [Fact]
    public void RevealBudget_PeerRampsUpToItsShare_OnePieceSettledAtATime_ManyShareIt()
    {
        var seeder = new SuperSeeder(new SuperSeederSettings(64, _ => PieceSize, RevealAtOnce: 2, RevealBudget: 8));
        Assert.Equal([0, 1], AddPeer(seeder, 1, new Bitfield(64)));

        // Each piece sent in full raises the peer's limit by one (two new pieces shown) until it holds its share:
        // alone, the whole budget; then one new piece per piece sent.
        Assert.Equal([2, 3], SendWhole(seeder, 1, 0));
        Assert.Equal([4, 5], SendWhole(seeder, 1, 1));
        Assert.Equal([6, 7], SendWhole(seeder, 1, 2));
        Assert.Equal([8, 9], SendWhole(seeder, 1, 3));
        Assert.Equal([10, 11], SendWhole(seeder, 1, 4));
        Assert.Equal([12, 13], SendWhole(seeder, 1, 5));
        Assert.Equal(8, seeder.PendingFor(1).Count);
        Assert.Equal([14], SendWhole(seeder, 1, 6));

        // Three more peers: each starts at the minimum, however much of the budget is free.
        Assert.Equal([15, 16], AddPeer(seeder, 2, new Bitfield(64)));
        Assert.Equal(2, AddPeer(seeder, 3, new Bitfield(64)).Count);
        Assert.Equal(2, AddPeer(seeder, 4, new Bitfield(64)).Count);

        // Peer 1 holds 8 pending, its share is now 8 / 4: pieces it is sent reveal nothing until it is down to that.
        for (var piece = 7; piece < 13; piece++)
        {
            Assert.Empty(SendWhole(seeder, 1, piece));
        }

        Assert.Single(SendWhole(seeder, 1, 13));

        // The others leave: the one left gets the budget back as its pieces are sent.
        seeder.RemovePeer(2);
        seeder.RemovePeer(3);
        seeder.RemovePeer(4);
        Assert.Equal(7, SendWhole(seeder, 1, 14).Count);
        Assert.Equal(8, seeder.PendingFor(1).Count);
    }

    [Fact]
    public void AddPeer_RevealsAtOnceDistinctPieces()
    {
        var seeder = Create(16, atOnce: 4);
        var shown = AddPeer(seeder, 1, new Bitfield(16));

        Assert.Equal(4, shown.Count);
        Assert.Equal(4, shown.Distinct().Count());
        Assert.Equal(4, seeder.RevealedTo(1).SetCount);
        Assert.All(shown, p => Assert.Equal(1, seeder.CopiesOf(p)));
    }

    [Fact]
    public void TwoPeers_ShownDisjointPiecesUntilAllWentOutOnce()
    {
        var seeder = Create(8, atOnce: 2);
        var first = AddPeer(seeder, 1, new Bitfield(8));
        var second = AddPeer(seeder, 2, new Bitfield(8));
        Assert.Empty(first.Intersect(second));

        // Every copy sent is a new piece while unsent ones are left.
        var sentTo1 = new List<int>(first);
        var sentTo2 = new List<int>(second);
        var next1 = SendWhole(seeder, 1, first[0]);
        var next2 = SendWhole(seeder, 2, second[0]);
        var next1b = SendWhole(seeder, 1, first[1]);
        var next2b = SendWhole(seeder, 2, second[1]);
        var all = first.Concat(second).Concat(next1).Concat(next2).Concat(next1b).Concat(next2b).ToList();

        Assert.Equal(8, all.Count);
        Assert.Equal(8, all.Distinct().Count());
    }

    [Fact]
    public void RoundOne_BlobShownFrontToBack()
    {
        var seeder = Create(8, atOnce: 2);
        Assert.Equal([0, 1], AddPeer(seeder, 1, new Bitfield(8)));
        Assert.Equal([2, 3], AddPeer(seeder, 2, new Bitfield(8)));
        Assert.Equal([4], SendWhole(seeder, 1, 0));
        Assert.Equal([5], SendWhole(seeder, 2, 3));
    }

    /// <summary>
    /// Peers 1-3 are sent their oldest pending piece every 0.1 s, peer 4 every second (its flow from the seed gets a
    /// tenth of theirs); each announces the piece it was sent. Returns, per reveal, the tick, the peer, the piece, and
    /// the front then (the first piece not shown to anyone; the first four pieces shown at tick 0).
    /// </summary>
    private static List<(int Tick, int Peer, int Piece, int Front)> SimulateOneSlowPeer(int pieces, int ticks)
    {
        var time = new FakeTimeProvider();
        var seeder = new SuperSeeder(new SuperSeederSettings(pieces, _ => PieceSize, RevealAtOnce: 2), time);
        var log = new List<(int Tick, int Peer, int Piece, int Front)>();
        for (var peer = 1; peer <= 4; peer++)
        {
            log.AddRange(AddPeer(seeder, peer, new Bitfield(pieces)).Select(piece => (0, peer, piece, 0)));
        }

        for (var tick = 1; tick <= ticks; tick++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            foreach (var peer in tick % 10 == 0 ? [1, 2, 3, 4] : new[] { 1, 2, 3 })
            {
                if (seeder.PendingFor(peer).Count == 0)
                {
                    continue;
                }

                var front = Enumerable.Range(0, pieces).FirstOrDefault(i => seeder.CopiesOf(i) == 0, pieces);
                // Sent in full, then the peer announces it has it.
                var piece = seeder.PendingFor(peer).Min();
                var shown = SendWhole(seeder, peer, piece);
                seeder.OnHave(peer, piece, shown, []);
                log.AddRange(shown.Select(p => (tick, peer, p, front)));
            }
        }

        return log;
    }

    [Fact]
    public void SlowPeer_ShownPiecesAsFarBackAsTheFrontMovesWhileItCatchesUp()
    {
        var log = SimulateOneSlowPeer(2000, ticks: 50);

        // The fast peers take the front; once timed (its second piece settled, after 2 s), the slow one is shown
        // pieces well ahead: the front moves about 30 pieces a second, and it settles pieces a second or more later.
        Assert.All(log.Where(r => r.Peer != 4 && r.Tick > 0), r => Assert.InRange(r.Piece - r.Front, 0, 2));
        var slow = log.Where(r => r.Peer == 4 && r.Tick >= 20).ToList();
        Assert.NotEmpty(slow);
        Assert.All(slow, r => Assert.InRange(r.Piece - r.Front, 15, 200));
    }

    [Fact]
    public void SlowPeer_NearTheEnd_WaitsWhileItHasPiecesPending_IsNeverLeftWithNone()
    {
        var log = SimulateOneSlowPeer(60, ticks: 60);

        // At 1 s the slow peer is sent its first piece and, with fewer pieces left unshown than it would leave to the
        // others, is shown none: it still has one pending. At 2 s that one is sent and it has none: it is shown more.
        Assert.DoesNotContain(log, r => r.Peer == 4 && r.Tick == 10);
        Assert.Contains(log, r => r.Peer == 4 && r.Tick == 20);

        // So the last pieces of the first round (from 38 on, unshown at 1 s) all went to the fast peers first.
        var firstCopies = log.Where(r => r.Tick > 0 && r.Front < 60).ToList();
        Assert.Equal(Enumerable.Range(8, 52), firstCopies.Select(r => r.Piece).Order());
        Assert.All(firstCopies.Where(r => r.Piece >= 38), r => Assert.NotEqual(4, r.Peer));
    }

    [Fact]
    public void RoundTwo_ThePieceShownLongestAgoAndHeldByNobodyFirst()
    {
        var log = SimulateOneSlowPeer(60, ticks: 60);

        // Once every piece went out, the first second copy is of the piece the slow peer was shown at the start and has
        // still not fetched (shown longest ago, held by nobody): piece 7, not the lowest-index piece nobody holds yet.
        var first = log.First(r => r.Front == 60 && r.Peer != 4);
        Assert.Equal(7, first.Piece);
        Assert.Contains(log, shown => shown.Tick == 0 && shown.Peer == 4 && shown.Piece == 7);

        // Where the two orders differ: with 105 pieces the slow peer is shown piece 103 at 2 s, ahead of the front.
        // When round two starts (3.2 s) the front has passed it and 99 is still on its way to a fast peer, shown
        // later: the first second copy is 103, where the lowest index would have been 99.
        var longer = SimulateOneSlowPeer(105, ticks: 60);
        Assert.Contains(longer, shown => shown.Tick == 20 && shown.Peer == 4 && shown.Piece == 103);
        Assert.Equal(103, longer.First(r => r.Front == 105 && r.Peer != 4).Piece);
    }

    [Fact]
    public void WithoutAClock_EveryPeerIsShownTheFront()
    {
        var seeder = Create(400, atOnce: 2);
        var shown = Enumerable.Range(1, 4).Select(peer => AddPeer(seeder, peer, new Bitfield(400))).ToList();
        Assert.Equal([8], SendWhole(seeder, 4, shown[3][0]));
        Assert.Equal([9], SendWhole(seeder, 1, shown[0][0]));
    }

    [Fact]
    public void OnBlockSent_PartOfPiece_NothingNew()
    {
        var seeder = Create(8, atOnce: 1);
        var shown = AddPeer(seeder, 1, new Bitfield(8));
        var revealed = new List<int>();
        seeder.OnBlockSent(1, shown[0], PieceSize - 1, revealed);
        Assert.Empty(revealed);

        seeder.OnBlockSent(1, shown[0], 1, revealed);
        Assert.Single(revealed);
        Assert.NotEqual(shown[0], revealed[0]);
        Assert.Equal(1, seeder.CopiesOf(shown[0])); // the copy went over the uplink
    }

    [Fact]
    public void OnHave_PendingPieceGotElsewhere_CopyNotCountedAndNextShown()
    {
        var seeder = Create(8, atOnce: 1);
        var pieces = new Bitfield(8);
        var shown = AddPeer(seeder, 1, pieces);
        pieces.Set(shown[0]); // the session updates the bitfield, then tells the seeder
        var revealed = new List<int>();
        seeder.OnHave(1, shown[0], revealed, []);

        Assert.Equal(0, seeder.CopiesOf(shown[0]));
        Assert.Equal(1, seeder.AvailabilityOf(shown[0]));
        Assert.Single(revealed);
        Assert.Equal([revealed[0]], seeder.PendingFor(1));
    }

    [Fact]
    public void Reveal_NeverAPieceThePeerHas()
    {
        var seeder = Create(4, atOnce: 4);
        var pieces = new Bitfield(4);
        pieces.Set(0);
        pieces.Set(2);
        var shown = AddPeer(seeder, 1, pieces);

        Assert.Equal([1, 3], shown.Order());
    }

    [Fact]
    public void EqualCopies_LeastHeldPieceFirst()
    {
        var seeder = Create(4, atOnce: 1);
        var pieces = new Bitfield(4);
        var pending = AddPeer(seeder, 1, pieces)[0];
        var got = Enumerable.Range(0, 4).First(p => p != pending);
        pieces.Set(got); // peer 1 got another piece from a peer: one holder, no copy of ours
        var revealed = new List<int>();
        seeder.OnHave(1, got, revealed, []);
        Assert.Empty(revealed); // its one pending piece is still pending

        var shown = AddPeer(seeder, 2, new Bitfield(4));

        Assert.DoesNotContain(got, shown); // held by a peer already
        Assert.DoesNotContain(pending, shown); // a copy already handed out
    }

    [Fact]
    public void RemovePeer_PendingCopiesReturned()
    {
        var seeder = Create(4, atOnce: 2);
        var shown = AddPeer(seeder, 1, new Bitfield(4));
        seeder.RemovePeer(1);

        Assert.All(shown, p => Assert.Equal(0, seeder.CopiesOf(p)));
        Assert.Equal(0, seeder.PeerCount);
    }

    [Fact]
    public void AfterBitfield_PendingPieceAlreadyHeld_Settled()
    {
        var seeder = Create(8, atOnce: 2);
        var pieces = new Bitfield(8);
        var shown = AddPeer(seeder, 1, pieces);
        seeder.BeforeBitfield(1);
        pieces.Set(shown[0]);
        var revealed = new List<int>();
        seeder.AfterBitfield(1, revealed);

        Assert.Equal(0, seeder.CopiesOf(shown[0]));
        Assert.Single(revealed);
        Assert.DoesNotContain(shown[0], seeder.PendingFor(1));
        Assert.Equal(2, seeder.PendingFor(1).Count);
    }

    [Fact]
    public void PeerHasEverything_NothingRevealed()
    {
        var seeder = Create(3, atOnce: 2);
        var all = new Bitfield(3);
        all.SetAll();

        Assert.Empty(AddPeer(seeder, 1, all));
    }

    // Forward window: two pieces at once, at most two sent and not yet announced by another peer, 2 s wait.
    private static SuperSeeder CreateForwarding(int pieces, FakeTimeProvider time) =>
        new(new SuperSeederSettings(pieces, _ => PieceSize, RevealAtOnce: 2, ForwardWindow: 2, ForwardWait: TimeSpan.FromSeconds(2)), time);

    // The peer receives the piece and announces it, as a session reports: bitfield first, then the seeder.
    private static List<int> Announce(SuperSeeder seeder, int peer, Bitfield pieces, int piece, List<(int Peer, int Piece)>? toOthers = null)
    {
        pieces.Set(piece);
        var revealed = new List<int>();
        seeder.OnHave(peer, piece, revealed, toOthers ?? []);
        return revealed;
    }

    [Fact]
    public void ForwardWindow_PeerThatDoesNotPassPiecesOn_IsShownNoMore_UntilAnotherPeerAnnouncesThem()
    {
        var time = new FakeTimeProvider();
        var seeder = CreateForwarding(64, time);
        var fastPieces = new Bitfield(64);
        var otherPieces = new Bitfield(64);
        var first = AddPeer(seeder, 1, fastPieces);
        AddPeer(seeder, 2, otherPieces);

        // Peer 1 fetches what it is shown at once: after the first piece one more is shown, after the second none
        // (two pieces only it holds), however fast it fetches.
        var third = Assert.Single(SendWhole(seeder, 1, first[0]));
        Assert.Empty(SendWhole(seeder, 1, first[1]));
        Assert.Empty(SendWhole(seeder, 1, third));
        Assert.Empty(seeder.PendingFor(1));
        Assert.Equal(3, seeder.ForwardingFor(1).Count);
        foreach (var piece in first.Append(third))
        {
            Assert.Empty(Announce(seeder, 1, fastPieces, piece)); // its own have passes nothing on
        }

        // Peer 2 announces them (it got them from peer 1): once fewer than two wait, peer 1 is shown more, and the
        // reveals come back in the list for the other peers.
        var toOthers = new List<(int Peer, int Piece)>();
        Announce(seeder, 2, otherPieces, first[0], toOthers);
        Assert.Empty(toOthers);
        Announce(seeder, 2, otherPieces, first[1], toOthers);
        Assert.Equal(2, toOthers.Count);
        Assert.All(toOthers, r => Assert.Equal(1, r.Peer));
        Assert.Empty(toOthers.Select(r => r.Piece).Intersect(first.Append(third)));
        Assert.Equal(toOthers.Select(r => r.Piece).Order(), seeder.PendingFor(1).Order());
        Assert.Equal([third], seeder.ForwardingFor(1));
    }

    [Fact]
    public void ForwardWindow_APieceNotPassedOnWithinTheWait_StopsHoldingThePeerBack()
    {
        var time = new FakeTimeProvider();
        var seeder = CreateForwarding(64, time);
        var first = AddPeer(seeder, 1, new Bitfield(64));
        AddPeer(seeder, 2, new Bitfield(64));
        time.Advance(TimeSpan.FromSeconds(1.5)); // the wait counts from the piece's last block, not from its reveal
        Assert.Single(SendWhole(seeder, 1, first[0]));
        Assert.Empty(SendWhole(seeder, 1, first[1]));
        var revealed = new List<int>();
        time.Advance(TimeSpan.FromSeconds(1.9));
        seeder.OnTick(1, revealed);
        Assert.Empty(revealed);

        // Its peers may not reach it at all: after the wait it is shown more (the seed never stalls on it).
        time.Advance(TimeSpan.FromSeconds(0.2));
        seeder.OnTick(1, revealed);
        Assert.Single(revealed); // one pending already, two at once
        Assert.Empty(seeder.ForwardingFor(1));
        Assert.Equal(2, seeder.PendingFor(1).Count);
    }

    [Fact]
    public void ForwardWindow_APieceEveryOtherPeerHolds_OrALonePeer_IsNotHeldBack()
    {
        var time = new FakeTimeProvider();
        var lone = CreateForwarding(64, time);
        var shown = AddPeer(lone, 1, new Bitfield(64));
        for (var i = 0; i < 10; i++)
        {
            var next = SendWhole(lone, 1, shown[0]);
            shown.RemoveAt(0);
            shown.AddRange(next);
        }

        Assert.Empty(lone.ForwardingFor(1)); // nobody else to pass it to
        Assert.Equal(2, lone.PendingFor(1).Count);

        var seeder = CreateForwarding(64, time);
        var first = AddPeer(seeder, 1, new Bitfield(64));
        var otherPieces = new Bitfield(64);
        AddPeer(seeder, 2, otherPieces);
        Announce(seeder, 2, otherPieces, first[0]); // got it elsewhere before we sent it
        SendWhole(seeder, 1, first[0]);
        Assert.Empty(seeder.ForwardingFor(1));
    }

    [Fact]
    public void ForwardWindow_RemovedPeer_ItsPiecesNoLongerAwaited()
    {
        var time = new FakeTimeProvider();
        var seeder = CreateForwarding(64, time);
        var shown = AddPeer(seeder, 1, new Bitfield(64));
        var otherPieces = new Bitfield(64);
        AddPeer(seeder, 2, otherPieces);
        SendWhole(seeder, 1, shown[0]);
        seeder.RemovePeer(1);

        var toOthers = new List<(int Peer, int Piece)>();
        Announce(seeder, 2, otherPieces, shown[0], toOthers);
        Assert.Empty(toOthers);
        Assert.Equal(1, seeder.CopiesOf(shown[0])); // the copy went out before the peer left
    }

    [Fact]
    public void PeerThatNeverSaysInterested_GoesDormantQuickly_ItsPiecesGoToTheNextPeer()
    {
        var time = new FakeTimeProvider();
        var seeder = new SuperSeeder(new SuperSeederSettings(64, _ => PieceSize, RevealAtOnce: 2), time);
        var idle = new List<int>();
        seeder.AddPeer(1, new Bitfield(64), idle); // a session that only sends keep-alives
        Assert.Equal([0, 1], idle);
        Assert.Equal([2, 3], AddPeer(seeder, 2, new Bitfield(64)));

        time.Advance(SuperSeeder.NotInterestedDormantAfter);
        seeder.OnTick(1, idle);
        Assert.Equal(1, seeder.DormantCount);
        Assert.Equal(0, seeder.CopiesOf(0));
        Assert.Equal([0, 1], AddPeer(seeder, 3, new Bitfield(64)));

        // Saying interested after all wakes it.
        var woken = new List<int>();
        seeder.OnInterested(1, woken);
        Assert.Equal(0, seeder.DormantCount);
        Assert.Equal(2, woken.Count);
    }

    [Fact]
    public void InterestedPeerThatAsksForNothing_GoesDormant_ItsPiecesGoBackAndItTakesNoShare()
    {
        var time = new FakeTimeProvider();
        var seeder = new SuperSeeder(new SuperSeederSettings(64, _ => PieceSize, RevealAtOnce: 2, RevealBudget: 8), time);
        var hoarder = AddPeer(seeder, 1, new Bitfield(64));
        Assert.Equal([0, 1], hoarder);
        var fetcher = AddPeer(seeder, 2, new Bitfield(64));
        Assert.Equal([2, 3], fetcher);

        var revealed = new List<int>();
        time.Advance(SuperSeeder.DormantAfter - TimeSpan.FromMilliseconds(1));
        seeder.OnBlockSent(2, 2, 512, []); // the fetcher asks within the second; the hoarder does not
        seeder.OnTick(1, revealed);
        Assert.Equal(0, seeder.DormantCount);
        time.Advance(TimeSpan.FromMilliseconds(1));
        seeder.OnTick(1, revealed);
        seeder.OnTick(2, revealed);
        Assert.Empty(revealed);
        Assert.Equal(1, seeder.DormantCount);
        Assert.Empty(seeder.PendingFor(1));
        Assert.Equal(0, seeder.CopiesOf(0));

        // Its pieces are the front again: the fetcher is shown them next, and alone takes the whole budget.
        var next = SendWhole(seeder, 2, 3);
        Assert.Contains(0, next);

        // A block sent to the dormant peer wakes it.
        seeder.OnBlockSent(1, 0, 512, revealed);
        Assert.Equal(0, seeder.DormantCount);
        Assert.NotEmpty(revealed);
    }
}

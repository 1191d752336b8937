using System.Buffers;
using System.IO.Pipelines;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Pieces;
using P2PRegistry.Swarm.Sessions;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Waiting;

namespace P2PRegistry.Swarm.Tests.Sessions;

public sealed class PeerSessionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static (BlobSwarm Seed, BlobSwarm Leech) CreatePair(TempDirectory dir, TestBlob blob, SwarmOptions? options = null)
    {
        var seedPath = blob.WriteTo(dir.Path, "seed");
        var seed = new BlobSwarm(SwarmTestContext.Create(options), PieceStore.OpenComplete(blob.MetaInfo, seedPath), download: false);
        var leech = new BlobSwarm(SwarmTestContext.Create(options), PieceStore.OpenForDownload(blob.MetaInfo, dir.Combine("leech")), download: true);
        return (seed, leech);
    }

    private static async Task<(Task<string> Dialled, Task<string> Accepted)> ConnectAsync(BlobSwarm dialler, BlobSwarm acceptor, CancellationToken cancellationToken)
    {
        var (left, right) = SwarmTestContext.PipePair();
        var accept = PeerConnector.AcceptAsync(acceptor.Context, h => h == acceptor.InfoHash ? acceptor : null, right, null, cancellationToken);
        var dialled = await PeerConnector.ConnectAsync(dialler, left, null, null, cancellationToken);
        var accepted = await accept;
        return (dialled.RunAsync(cancellationToken), accepted.RunAsync(cancellationToken));
    }

    [Fact]
    public async Task Session_SeedToLeecher_DownloadsVerifiesAndCompletes()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create((3 * 256 * 1024) + 12345, 256 * 1024);
        var (seed, leech) = CreatePair(dir, blob);
        using var cts = new CancellationTokenSource(Timeout);
        using (seed)
        using (leech)
        {
            var (dialled, accepted) = await ConnectAsync(leech, seed, cts.Token);
            await leech.Completion.WaitAsync(Timeout);

            Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
            Assert.Equal(blob.MetaInfo.Length, leech.Statistics.BytesDownloaded);
            Assert.Equal(blob.MetaInfo.Length, seed.Statistics.BytesUploaded);
            Assert.Equal(blob.MetaInfo.PieceCount, leech.Statistics.PiecesVerified);
            Assert.False(File.Exists(dir.Combine("leech") + PieceStore.BitfieldSuffix));

            // Both complete: the leecher (now a seed) hangs up on the seed.
            await Task.WhenAll(dialled, accepted).WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task Session_SeedDials_LeecherStillDownloads()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(600_000, 256 * 1024);
        var (seed, leech) = CreatePair(dir, blob);
        using var cts = new CancellationTokenSource(Timeout);
        using (seed)
        using (leech)
        {
            await ConnectAsync(seed, leech, cts.Token);
            await leech.Completion.WaitAsync(Timeout);
            Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        }
    }

    [Fact]
    public async Task WaitForPiece_CompletesWhenPieceVerified()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(8 * 256 * 1024, 256 * 1024);
        var (seed, leech) = CreatePair(dir, blob);
        using var cts = new CancellationTokenSource(Timeout);
        using (seed)
        using (leech)
        {
            var waits = Enumerable.Range(0, 8).Select(i => leech.WaitForPieceAsync(i, cts.Token)).ToArray();
            leech.Prioritize(0, 2);
            await ConnectAsync(leech, seed, cts.Token);
            await Task.WhenAll(waits).WaitAsync(Timeout);
            await leech.Completion.WaitAsync(Timeout);
            Assert.True(leech.WaitForPieceAsync(3, CancellationToken.None).IsCompletedSuccessfully);
        }
    }

    [Fact]
    public async Task Session_WrongInfoHash_Refused()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        var (seed, leech) = CreatePair(dir, blob);
        using (seed)
        using (leech)
        {
            var (left, right) = SwarmTestContext.PipePair();
            var accept = PeerConnector.AcceptAsync(seed.Context, _ => null, right, null, CancellationToken.None);
            var connect = PeerConnector.ConnectAsync(leech, left, null, null, CancellationToken.None);
            await Assert.ThrowsAsync<PeerProtocolException>(() => accept.WaitAsync(Timeout));
            await right.Input.CompleteAsync();
            await right.Output.CompleteAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => connect.WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task Handshake_PeerSilent_TimesOut()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        var options = SwarmTestContext.FastOptions(o => o.HandshakeTimeout = TimeSpan.FromMilliseconds(200));
        var (seed, leech) = CreatePair(dir, blob, options);
        using (seed)
        using (leech)
        {
            var (left, _) = SwarmTestContext.PipePair();
            await Assert.ThrowsAsync<TimeoutException>(() => PeerConnector.ConnectAsync(leech, left, null, null, CancellationToken.None).WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task Session_FrameLongerThanLimit_Closed()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        var (seed, leech) = CreatePair(dir, blob);
        using (seed)
        using (leech)
        {
            var (left, right) = SwarmTestContext.PipePair();
            var accept = PeerConnector.AcceptAsync(seed.Context, _ => seed, right, null, CancellationToken.None);
            new Handshake(blob.MetaInfo.InfoHash, PeerId.CreateRandom()).Write(left.Output);
            await left.Output.FlushAsync();
            var session = await accept.WaitAsync(Timeout);
            var run = session.RunAsync(CancellationToken.None);

            // A frame header announcing 100 MB: refused before it is buffered.
            await left.Output.WriteAsync(new byte[] { 0x05, 0xF5, 0xE1, 0x00, 7 });
            var reason = await run.WaitAsync(Timeout);
            Assert.Contains("exceeds", reason);
        }
    }

    [Fact]
    public async Task Session_ServesRequestsWithPieceHeaderAndBlock()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(600_000, 256 * 1024);
        var (seed, leech) = CreatePair(dir, blob);
        using (seed)
        using (leech)
        {
            // Expect: handshake, bitfield, (extension handshake), unchoke — then ask for a block.
            var messages = new List<PeerMessageType>();
            var (pipe, session, run) = await InterestedRawPeerAsync(seed, blob, messages);
            Assert.Equal(PeerMessageType.Bitfield, messages[0]);
            PeerMessageWriter.WriteRequest(pipe.Output, 1, 16384, 16384);
            await pipe.Output.FlushAsync();

            var block = await ReadBlockAsync(pipe.Input);
            Assert.Equal(blob.Piece(1).Slice(16384, 16384).ToArray(), block);
            Assert.Equal(16384, seed.Statistics.BytesUploaded);
            session.Close("test over");
            await run.WaitAsync(Timeout);
        }
    }

    // A raw BEP 3 peer on the seed: handshake, interested, and everything up to the seed's unchoke read.
    private static async Task<(IDuplexPipe Pipe, PeerSession Session, Task<string> Run)> InterestedRawPeerAsync(BlobSwarm seed, TestBlob blob, List<PeerMessageType>? seen = null)
    {
        var (left, right) = SwarmTestContext.PipePair();
        var accept = PeerConnector.AcceptAsync(seed.Context, _ => seed, right, null, CancellationToken.None);
        new Handshake(blob.MetaInfo.InfoHash, PeerId.CreateRandom()).Write(left.Output);
        PeerMessageWriter.WriteInterested(left.Output);
        await left.Output.FlushAsync();
        var session = await accept.WaitAsync(Timeout);
        var run = session.RunAsync(CancellationToken.None);
        await ReadUntilAsync(left.Input, seen ?? [], PeerMessageType.Unchoke, readHandshake: true);
        return (left, session, run);
    }

    [Fact]
    public async Task NotInterested_KeepsItsUploadSlotWhileSlotsAreFree_ARequestRightAfterIsServedOnceWithoutAChoke()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(600_000, 256 * 1024);
        var (seed, leech) = CreatePair(dir, blob);
        using (seed)
        using (leech)
        {
            var (pipe, session, run) = await InterestedRawPeerAsync(seed, blob);

            // Not interested, then shown something new and asking at once: a choke now would cross those requests.
            PeerMessageWriter.WriteNotInterested(pipe.Output);
            PeerMessageWriter.WriteInterested(pipe.Output);
            PeerMessageWriter.WriteRequest(pipe.Output, 1, 0, 16384);
            await pipe.Output.FlushAsync();
            var seen = new List<PeerMessageType>();
            await ReadUntilAsync(pipe.Input, seen, PeerMessageType.Piece, readHandshake: false);

            Assert.DoesNotContain(PeerMessageType.Choke, seen);
            Assert.Equal(16384, seed.Statistics.BytesUploaded);
            session.Close("test over");
            await run.WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task NotInterested_IsChoked_WhenAnInterestedPeerWaitsForItsUploadSlot()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(600_000, 256 * 1024);
        var (seed, leech) = CreatePair(dir, blob, SwarmTestContext.FastOptions(o => o.UploadSlotsPerSwarm = 1));
        using (seed)
        using (leech)
        {
            var (first, firstSession, firstRun) = await InterestedRawPeerAsync(seed, blob);
            PeerMessageWriter.WriteNotInterested(first.Output);
            await first.Output.FlushAsync();
            await Eventually.AssertAsync(() => seed.Describe(firstSession)?.PeerInterested == false);

            Assert.False(seed.Describe(firstSession)!.PeerInterested);
            Assert.False(seed.Describe(firstSession)!.AmChoking); // keeps the slot while nobody else wants it

            // The one slot is held by a peer that wants nothing: the next interested peer gets it.
            var (_, secondSession, secondRun) = await InterestedRawPeerAsync(seed, blob);
            await ReadUntilAsync(first.Input, [], PeerMessageType.Choke, readHandshake: false);
            Assert.True(seed.Describe(firstSession)!.AmChoking);
            Assert.False(seed.Describe(secondSession)!.AmChoking);

            firstSession.Close("test over");
            secondSession.Close("test over");
            await Task.WhenAll(firstRun, secondRun).WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task CompleteDownload_GoesOnSeedingItsPeers_PiecesKeptInMemoryFreedOnceNoPeerIsInterested()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(8 * 256 * 1024, 256 * 1024);
        var (seed, leech) = CreatePair(dir, blob);
        using var cts = new CancellationTokenSource(Timeout);
        using (seed)
        using (leech)
        {
            // A peer with nothing, interested in the leech, connected before the leech completes.
            var (pipe, peer, peerRun) = await InterestedRawPeerAsync(leech, blob);
            await ConnectAsync(leech, seed, cts.Token);
            await leech.Completion.WaitAsync(Timeout);
            Assert.True(leech.Store.HotPieceCount > 0, "the test needs a file system that takes O_DIRECT (the pieces are kept in memory only then)");
            Assert.False(leech.Store.UsesDirectIo); // complete: reads go through the page cache

            // The completed download serves it from the same session.
            PeerMessageWriter.WriteRequest(pipe.Output, 7, 0, 16384);
            await pipe.Output.FlushAsync();
            Assert.Equal(blob.Piece(7)[..16384].ToArray(), await ReadBlockAsync(pipe.Input));
            Assert.True(leech.Store.HotPieceCount > 0);

            PeerMessageWriter.WriteNotInterested(pipe.Output);
            await pipe.Output.FlushAsync();
            await Eventually.AssertAsync(() => leech.Store.HotPieceCount == 0);

            Assert.Equal(0, leech.Store.HotPieceCount);
            peer.Close("test over");
            await peerRun.WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task Session_BlockOfRequestedPieceCorrupt_PeerBlacklistedAndClosed()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(2 * 256 * 1024, 256 * 1024);
        var (_, leech) = CreatePair(dir, blob);
        using (leech)
        {
            var (left, right) = SwarmTestContext.PipePair();
            var liarId = PeerId.CreateRandom();
            var liarAddress = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("127.0.0.9"), 50999);
            var accept = PeerConnector.AcceptAsync(leech.Context, _ => leech, right, liarAddress, CancellationToken.None);
            new Handshake(blob.MetaInfo.InfoHash, liarId).Write(left.Output);
            var all = new Bitfield(blob.MetaInfo.PieceCount);
            all.SetAll();
            PeerMessageWriter.WriteBitfield(left.Output, all);
            PeerMessageWriter.WriteUnchoke(left.Output);
            await left.Output.FlushAsync();
            var session = await accept.WaitAsync(Timeout);
            var run = session.RunAsync(CancellationToken.None);

            // Answer every request with zeros: the piece fails its SHA-1.
            var answered = AnswerRequestsAsync(left, _ => new byte[16384]);
            var reason = await run.WaitAsync(Timeout);
            Assert.Contains("SHA-1", reason);
            // Blamed by the address it came from (no listen port known: the whole address), in this swarm.
            Assert.True(leech.IsBlacklisted(new System.Net.IPEndPoint(liarAddress.Address, 6881)));
            Assert.False(leech.IsBlacklisted(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 6881)));
            Assert.Equal(1, leech.BlacklistedCount);
            Assert.True(leech.Statistics.PiecesFailed >= 1);
            Assert.Equal(0, leech.Statistics.PiecesVerified);
            await left.Output.CompleteAsync();
            await answered.WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task Timer_QuietConnection_SendsKeepAliveThenClosesWhenIdle()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var options = SwarmTestContext.FastOptions(o =>
        {
            o.KeepAliveInterval = TimeSpan.FromSeconds(60);
            o.IdleTimeout = TimeSpan.FromSeconds(120);
        });
        using var seed = new BlobSwarm(SwarmTestContext.Create(options, time), PieceStore.OpenComplete(blob.MetaInfo, blob.WriteTo(dir.Path, "seed")), download: false);
        var (left, right) = SwarmTestContext.PipePair();
        var accept = PeerConnector.AcceptAsync(seed.Context, _ => seed, right, null, CancellationToken.None);
        new Handshake(blob.MetaInfo.InfoHash, PeerId.CreateRandom()).Write(left.Output);
        await left.Output.FlushAsync();
        var session = await accept.WaitAsync(Timeout);
        var run = session.RunAsync(CancellationToken.None);
        var seen = new List<PeerMessageType>();
        await ReadUntilAsync(left.Input, seen, PeerMessageType.Bitfield, readHandshake: true);

        var keepAlive = ReadUntilAsync(left.Input, seen, PeerMessageType.KeepAlive, readHandshake: false);
        for (var i = 0; i < 100 && !keepAlive.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        await keepAlive.WaitAsync(Timeout);
        Assert.False(run.IsCompleted);
        for (var i = 0; i < 200 && !run.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        Assert.Equal("idle timeout", await run.WaitAsync(Timeout));
    }

    [Fact]
    public async Task ExtensionHandshake_InboundPeerPort_KnownAsConnected()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(300_000, 256 * 1024);
        var (seed, leech) = CreatePair(dir, blob);
        using (seed)
        using (leech)
        {
            var (left, right) = SwarmTestContext.PipePair();
            var remote = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 50123);
            var accept = PeerConnector.AcceptAsync(seed.Context, _ => seed, right, remote, CancellationToken.None);
            new Handshake(blob.MetaInfo.InfoHash, PeerId.CreateRandom()).Write(left.Output);
            new ExtensionHandshake { Port = 7777, Client = "test" }.WriteMessage(left.Output);
            await left.Output.FlushAsync();
            var session = await accept.WaitAsync(Timeout);
            var run = session.RunAsync(CancellationToken.None);

            var advertised = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 7777);
            for (var i = 0; i < 200 && !seed.IsConnectedTo(advertised, null); i++)
            {
                await Task.Delay(10);
            }

            Assert.True(seed.IsConnectedTo(advertised, null));
            Assert.False(seed.IsConnectedTo(remote, null));
            session.Close("test over");
            await run.WaitAsync(Timeout);
        }
    }

    // Polls until the condition holds or the test's timeout passes; the caller asserts it.

    private static async Task AnswerRequestsAsync(IDuplexPipe pipe, Func<(int Piece, int Begin), byte[]> answer)
    {
        try
        {
            while (true)
            {
                var result = await pipe.Input.ReadAsync();
                var buffer = result.Buffer;
                var requests = new List<(int, int)>();
                if (requests.Count == 0 && buffer.Length >= Handshake.Length && buffer.FirstSpan[0] == 19)
                {
                    Handshake.TryRead(ref buffer, out _);
                }

                while (PeerMessageReader.TryRead(ref buffer, 1 << 20, out var message) == OperationStatus.Done)
                {
                    if (message.Type == PeerMessageType.Request)
                    {
                        requests.Add((message.Index, message.Begin));
                    }
                }

                pipe.Input.AdvanceTo(buffer.Start, buffer.End);
                foreach (var request in requests)
                {
                    PeerMessageWriter.WritePiece(pipe.Output, request.Item1, request.Item2, answer(request));
                }

                var flushed = await pipe.Output.FlushAsync();
                if (result.IsCompleted || flushed.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (InvalidOperationException)
        {
            // The test completed the pipe.
        }
    }

    private static async Task ReadUntilAsync(PipeReader input, List<PeerMessageType> seen, PeerMessageType until, bool readHandshake)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var handshakeDone = !readHandshake;
        while (true)
        {
            var result = await input.ReadAsync(cts.Token);
            var buffer = result.Buffer;
            if (!handshakeDone)
            {
                if (Handshake.TryRead(ref buffer, out _) != OperationStatus.Done)
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }

                handshakeDone = true;
            }

            var found = false;
            while (!found && PeerMessageReader.TryRead(ref buffer, 1 << 20, out var message) == OperationStatus.Done)
            {
                seen.Add(message.Type);
                found = message.Type == until;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (found)
            {
                return;
            }
        }
    }

    private static async Task<byte[]> ReadBlockAsync(PipeReader input)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            var result = await input.ReadAsync(cts.Token);
            var buffer = result.Buffer;
            byte[]? block = null;
            while (block is null && PeerMessageReader.TryRead(ref buffer, 1 << 20, out var message) == OperationStatus.Done)
            {
                if (message.Type == PeerMessageType.Piece)
                {
                    block = message.Block.ToArray();
                }
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (block is not null)
            {
                return block;
            }
        }
    }
}

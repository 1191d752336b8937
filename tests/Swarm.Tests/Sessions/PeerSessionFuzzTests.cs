using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.Tests.Engine;
using P2PRegistry.Testing;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Peers;
using Xunit.Abstractions;

namespace P2PRegistry.Swarm.Tests.Sessions;

/// <summary>
/// A million random and mutated frames at a live engine seeding on a real 127.0.0.1 port, reconnecting whenever it
/// hangs up; afterwards it must still serve the blob byte for byte and hold no more memory than before. Alone in its
/// collection, so that the heap it measures is its own. <c>P2P_FUZZ_SEED=n</c> replays a run.
/// </summary>
[Trait("Category", TestCategories.Slow)]
[Collection(nameof(PeerSessionFuzzTests))]
[CollectionDefinition(nameof(PeerSessionFuzzTests), DisableParallelization = true)]
public sealed class PeerSessionFuzzTests(ITestOutputHelper output)
{
    private const int TargetFrames = 1_000_000;
    private const int FramesPerBatch = 1_000;
    private const int MaxConnections = 5_000;
    private const long MaxHeapGrowth = 64L * 1024 * 1024;
    private const int PieceLength = 16 * 1024;
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task MillionRandomAndMutatedFrames_SeedSurvives_ServesBlobAndHeapStaysFlat()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("P2P_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261206;
        output.WriteLine($"fuzz seed {seed} (replay with P2P_FUZZ_SEED={seed})");
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(16 * PieceLength - 100, PieceLength, seed: 11);
        var tracker = new FakeTracker();
        await using var node = await TestNode.StartAsync(tracker);
        node.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        var target = new IPEndPoint(IPAddress.Loopback, node.Port);
        var frames = new FrameFuzzer(new Random(seed), blob.MetaInfo.PieceCount, PieceLength, blob.MetaInfo.GetPieceSize(blob.MetaInfo.PieceCount - 1));

        // Warm up (JIT, pools, one session) before the baseline.
        await using (var warmUp = await HostilePeer.ConnectAndHandshakeAsync(target, blob.MetaInfo.InfoHash, timeout: Timeout))
        {
            await warmUp.SendAsync(frames.Benign(FramesPerBatch, out _));
        }

        var heapBefore = Heap();
        var sent = 0L;
        var connections = 0;
        var closedByEngine = 0;
        var closedOnBenign = 0;
        var blocksReceived = 0;
        var started = DateTime.UtcNow;
        while (sent < TargetFrames)
        {
            Assert.True(connections < MaxConnections, $"seed {seed}: {connections} connections for {sent} frames");
            Assert.True(DateTime.UtcNow - started < Budget, $"seed {seed}: only {sent} frames in {Budget}");
            connections++;

            // Each connection from its own 127.0.0.x and peer id, as many hostile peers would come.
            var source = Loopback.Address((byte)(2 + (connections % 250)));
            HostilePeer peer;
            try
            {
                peer = await HostilePeer.ConnectAndHandshakeAsync(target, blob.MetaInfo.InfoHash, localAddress: source, timeout: Timeout);
            }
            catch (Exception exception)
            {
                Assert.Fail($"seed {seed}: the seed did not handshake after {sent} frames on {connections} connections: {exception}");
                throw;
            }

            await using (peer)
            {
                // Whatever the seed sends (unchoke, pieces for the valid requests) is read and counted, so it never blocks on us.
                var closed = DrainAsync(peer);
                var benignBatches = frames.Next(2, 12);
                for (var batch = 0; batch <= benignBatches && !closed.IsCompleted; batch++)
                {
                    var hostile = batch == benignBatches;
                    var bytes = hostile ? frames.Hostile(FramesPerBatch, out var count) : frames.Benign(FramesPerBatch, out count);
                    try
                    {
                        await peer.SendAsync(bytes);
                    }
                    catch (Exception exception) when (exception is IOException or SocketException)
                    {
                        break;
                    }

                    sent += count;
                    if (!hostile && closed.IsCompleted)
                    {
                        closedOnBenign++;
                        output.WriteLine($"closed after a benign batch on connection {connections}");
                    }
                }

                // A half-close: the seed reads every frame sent before it sees the end, so none is lost to a reset.
                if (!closed.IsCompleted)
                {
                    try
                    {
                        peer.ShutdownSend();
                    }
                    catch (SocketException)
                    {
                    }
                }
                else
                {
                    closedByEngine++;
                }

                Assert.True(await closed, $"seed {seed}: the seed kept connection {connections} open past the end of its frames");
                blocksReceived += peer.Received(PeerMessageType.Piece);
            }
        }

        output.WriteLine($"{sent} frames on {connections} connections in {DateTime.UtcNow - started:g}; the seed hung up before the end of the frames {closedByEngine} times ({closedOnBenign} after benign frames only), answered {blocksReceived} requests");

        // The frames reached the sessions: the seed answered valid requests among them.
        Assert.True(blocksReceived > 0, $"seed {seed}: not one request answered");

        // A well-behaved download from the same seed: every byte, hashed to the digest.
        await using var leecher = await TestNode.StartAsync(tracker);
        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);
        Assert.Equal(blob.Digest, Digest.Compute(await File.ReadAllBytesAsync(dir.Combine("leech"))));
        await leecher.DisposeAsync();

        var heapAfter = Heap();
        output.WriteLine($"heap {heapBefore} bytes before, {heapAfter} bytes after");
        Assert.True(heapAfter - heapBefore < MaxHeapGrowth, $"seed {seed}: the heap grew from {heapBefore} to {heapAfter} bytes");
    }

    /// <summary>Reads (and counts) until the seed closes; false if it has not within a minute.</summary>
    private static async Task<bool> DrainAsync(HostilePeer peer)
    {
        try
        {
            while (await peer.ReadMessageAsync(Timeout) is not null)
            {
            }

            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static long Heap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetGCMemoryInfo(GCKind.FullBlocking).HeapSizeBytes;
    }

    /// <summary>Frames, each batch written as one buffer. Benign ones a seed must take without hanging up; hostile ones anything.</summary>
    private sealed class FrameFuzzer(Random random, int pieceCount, int pieceLength, int lastPieceLength)
    {
        private readonly MemoryStream _batch = new();

        public int Next(int min, int max) => random.Next(min, max);

        public byte[] Benign(int count, out int written)
        {
            _batch.SetLength(0);
            for (var i = 0; i < count; i++)
            {
                _batch.Write(BenignFrame());
            }

            written = count;
            return _batch.ToArray();
        }

        public byte[] Hostile(int count, out int written)
        {
            _batch.SetLength(0);
            for (var i = 0; i < count; i++)
            {
                _batch.Write(Mutate(random.Next(3) == 0 ? SpecialFrame() : BenignFrame()));
            }

            written = count;
            return _batch.ToArray();
        }

        private uint AnyPiece() => (uint)random.Next(pieceCount);

        private int SizeOf(uint piece) => piece == pieceCount - 1 ? lastPieceLength : pieceLength;

        private byte[] RandomBytes(int min, int max)
        {
            var bytes = new byte[random.Next(min, max)];
            random.NextBytes(bytes);
            return bytes;
        }

        // Valid frames with values in range, and ids a BEP 3 peer must ignore.
        private byte[] BenignFrame()
        {
            var roll = random.Next(100);
            switch (roll)
            {
                case < 10:
                    return Frames.KeepAlive();
                case < 18:
                    return Frames.Interested();
                case < 22:
                    return Frames.NotInterested();
                case < 26:
                    return random.Next(2) == 0 ? Frames.Choke() : Frames.Unchoke();
                case < 46:
                    // Never piece 0: a peer that has every piece is a seed too, and two seeds part (rightly).
                    return Frames.Have((uint)random.Next(1, pieceCount));
                case < 48:
                    {
                        // Small requests: the seed answers them, and that must not flood this machine.
                        var piece = AnyPiece();
                        var begin = random.Next(SizeOf(piece));
                        return Frames.Request(piece, (uint)begin, (uint)random.Next(1, Math.Min(1024, SizeOf(piece) - begin) + 1));
                    }

                case < 63:
                    {
                        // Inside its piece, like the request it would cancel (most match nothing queued).
                        var piece = AnyPiece();
                        var begin = random.Next(SizeOf(piece));
                        return Frames.Cancel(piece, (uint)begin, (uint)random.Next(1, Math.Min(16 * 1024, SizeOf(piece) - begin) + 1));
                    }

                case < 78:
                    {
                        // An id we do not implement (port, fast extension, anything above extended).
                        var id = (byte)random.Next(9, 255);
                        return Frames.Message(id >= (byte)PeerMessageType.Extended ? (byte)(id + 1) : id, RandomBytes(0, 33));
                    }

                default:
                    // An extended message other than the extension handshake.
                    return Frames.Extended((byte)random.Next(1, 256), RandomBytes(0, 65));
            }
        }

        // Frames the seed may refuse: piece data it never asked for, extension handshakes and bitfields (a few per
        // session at most), out-of-range requests.
        private byte[] SpecialFrame()
        {
            switch (random.Next(7))
            {
                case 5:
                    {
                        // A valid bitfield that lacks piece 0 (more than a few per session are refused).
                        var bits = new byte[(pieceCount + 7) / 8];
                        random.NextBytes(bits);
                        bits[0] &= 0x7F;
                        bits[^1] &= (byte)(0xFF << ((bits.Length * 8) - pieceCount));
                        return Frames.Bitfield(bits);
                    }

                case 0:
                    return Frames.Piece(AnyPiece(), (uint)random.Next(pieceLength), RandomBytes(1, 65));
                case 1:
                    return Frames.Extended(0, "d1:md6:ut_pexi1ee1:pi6881e1:v4:fuzze"u8);
                case 2:
                    return Frames.Extended(0, RandomBytes(0, 65));
                case 3:
                    return Frames.Request((uint)random.Next(pieceCount, pieceCount + 3), 0, 16 * 1024);
                case 4:
                    return Frames.Bitfield(RandomBytes(0, 8));
                default:
                    return RandomBytes(1, 65);
            }
        }

        private byte[] Mutate(byte[] frame)
        {
            switch (random.Next(8))
            {
                case 0 when frame.Length >= 4:
                    // A length prefix a little off, or anything.
                    var length = BinaryPrimitives.ReadUInt32BigEndian(frame);
                    BinaryPrimitives.WriteUInt32BigEndian(frame, random.Next(3) == 0 ? (uint)random.NextInt64(uint.MaxValue + 1L) : (uint)Math.Max(0, length + random.Next(-4, 5)));
                    return frame;
                case 1 when frame.Length >= 5:
                    frame[4] = (byte)random.Next(256);
                    return frame;
                case 2 when frame.Length >= 9:
                    // An index (or begin, or length): past the end, negative, huge.
                    var field = 5 + (4 * random.Next((frame.Length - 5) / 4));
                    uint[] values = [(uint)pieceCount, uint.MaxValue, int.MaxValue, 0x80000000, (uint)random.Next()];
                    BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(field), values[random.Next(values.Length)]);
                    return frame;
                case 3 when frame.Length > 1:
                    return frame[..random.Next(frame.Length)];
                case 4:
                    for (var flips = random.Next(1, 4); flips > 0; flips--)
                    {
                        frame[random.Next(frame.Length)] ^= (byte)random.Next(1, 256);
                    }

                    return frame;
                case 5:
                    return RandomBytes(1, 33);
                default:
                    return frame;
            }
        }
    }
}

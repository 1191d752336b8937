using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;
using P2PRegistry.Testing.Blobs;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;
using Xunit.Abstractions;

namespace P2PRegistry.Swarm.Tests.Engine;

/// <summary>SwarmOptions.SuperSeed: a complete seed shows our own peers a few pieces at a time, other clients everything.</summary>
public sealed class SuperSeedTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Handshake_OurClient_ShownAFewPiecesNotTheFullBitfield()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(4 * 1024 * 1024, 256 * 1024); // 16 pieces
        await using var seed = await TestNode.StartAsync(new FakeTracker(), o =>
        {
            o.SuperSeed = true;
            o.SuperSeedRevealBytes = 512 * 1024; // two pieces
        });
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));

        using var one = new TcpClient();
        using var two = new TcpClient();
        var first = await FirstBitfieldAsync(one, seed.Port, blob, PeerId.CreateRandom());
        var second = await FirstBitfieldAsync(two, seed.Port, blob, PeerId.CreateRandom()); // while the first is still connected

        Assert.Equal(2, first.SetCount);
        Assert.Equal(2, second.SetCount);
        for (var i = 0; i < 16; i++)
        {
            Assert.False(first[i] && second[i], $"piece {i} was shown to both peers while 12 were never shown");
        }
    }

    [Fact]
    public async Task Handshake_OtherClient_ShownEveryPiece()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(4 * 1024 * 1024, 256 * 1024);
        await using var seed = await TestNode.StartAsync(new FakeTracker(), o => o.SuperSeed = true);
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        var aria2 = new PeerId(Encoding.ASCII.GetBytes("A2-1-37-0-abcdefghij"));

        using var client = new TcpClient();
        var bitfield = await FirstBitfieldAsync(client, seed.Port, blob, aria2);

        Assert.True(bitfield.AllSet);
    }

    [Fact]
    public async Task Handshake_SuperSeedOff_OurClientShownEveryPiece()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(4 * 1024 * 1024, 256 * 1024);
        await using var seed = await TestNode.StartAsync(new FakeTracker());
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));

        using var client = new TcpClient();
        var bitfield = await FirstBitfieldAsync(client, seed.Port, blob, PeerId.CreateRandom());

        Assert.True(bitfield.AllSet);
    }

    [Fact]
    public async Task Download_SuperSeedingOriginOneLeecher_GetsEveryPieceFromIt()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(6 * 1024 * 1024, 256 * 1024);
        var tracker = new FakeTracker();
        await using var seed = await TestNode.StartAsync(tracker, o =>
        {
            o.SuperSeed = true;
            o.SuperSeedRevealBytes = 512 * 1024; // two pieces shown at a time, 24 to go
        });
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        tracker.MarkOrigin(seed.Engine.PeerId);
        await using var leecher = await TestNode.StartAsync(tracker);

        var download = await leecher.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine("leech"));
        await download.Completion.WaitAsync(Timeout);

        Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine("leech")));
        Assert.Equal(blob.MetaInfo.Length, seed.Engine.GetStatistics(blob.MetaInfo.InfoHash)!.BytesUploaded);
    }

    [Fact]
    public async Task Download_SuperSeedingOriginFourLeechers_OriginSendsAboutOneCopy()
    {
        using var dir = new TempDirectory();
        var blob = TestBlob.Create(8 * 1024 * 1024, 256 * 1024);
        var tracker = new FakeTracker();

        // The origin's uplink is the scarce one, as in a rollout: 8 MiB/s for 4 × 8 MiB wanted.
        await using var seed = await TestNode.StartAsync(tracker, o =>
        {
            o.EgressBytesPerSecond = 8 * 1024 * 1024;
            o.SuperSeed = true;
            o.SuperSeedRevealBytes = 512 * 1024;
        });
        seed.Engine.Seed(blob.MetaInfo, blob.WriteTo(dir.Path, "seed"));
        tracker.MarkOrigin(seed.Engine.PeerId);
        var leechers = new List<TestNode>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                leechers.Add(await TestNode.StartAsync(tracker));
            }

            var downloads = await Task.WhenAll(leechers.Select((l, i) => l.Engine.StartDownloadAsync(blob.MetaInfo, dir.Combine($"leech{i}"))));
            await Task.WhenAll(downloads.Select(d => d.Completion)).WaitAsync(Timeout);

            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(blob.Content, File.ReadAllBytes(dir.Combine($"leech{i}")));
            }

            var uploaded = seed.Engine.GetStatistics(blob.MetaInfo.InfoHash)!.BytesUploaded;
            output.WriteLine($"the super-seeding origin uploaded {uploaded / (double)blob.MetaInfo.Length:F2}× the blob");

            // Without super-seeding every leecher asks the origin for the same rarest pieces (2–3× at 4 leechers).
            Assert.True(uploaded < 1.5 * blob.MetaInfo.Length, $"the origin uploaded {uploaded / (double)blob.MetaInfo.Length:F2}× the blob");
        }
        finally
        {
            foreach (var leecher in leechers)
            {
                await leecher.DisposeAsync();
            }
        }
    }

    /// <summary>Handshakes as <paramref name="peerId"/> and returns the first bitfield the seed sends.</summary>
    private static async Task<Bitfield> FirstBitfieldAsync(TcpClient client, int port, TestBlob blob, PeerId peerId)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
        var stream = client.GetStream();
        var input = PipeReader.Create(stream);
        var writer = PipeWriter.Create(stream);
        new Handshake(blob.MetaInfo.InfoHash, peerId).Write(writer);
        await writer.FlushAsync(cts.Token);
        var handshaken = false;
        while (true)
        {
            var result = await input.ReadAsync(cts.Token);
            var buffer = result.Buffer;
            if (!handshaken && Handshake.TryRead(ref buffer, out _) == OperationStatus.Done)
            {
                handshaken = true;
            }

            while (handshaken && PeerMessageReader.TryRead(ref buffer, 1 << 20, out var message) == OperationStatus.Done)
            {
                // BEP 3: the bitfield comes first; a reveal (have) must never overtake it.
                Assert.NotEqual(PeerMessageType.Have, message.Type);
                if (message.Type == PeerMessageType.Bitfield)
                {
                    return Bitfield.FromWire(message.Bits, blob.MetaInfo.PieceCount);
                }
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            Assert.False(result.IsCompleted, "the seed closed the connection before sending a bitfield");
        }
    }
}

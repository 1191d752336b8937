using System.Buffers;
using System.Buffers.Binary;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Core.Tests.Wire;

/// <summary>Hostile frames: the reader may only answer Done, NeedMoreData or PeerProtocolException, and never buffers a claimed length.</summary>
public class PeerMessageFuzzTests
{
    private const int Max = 32 * 1024;

    private static byte[] ValidStream(Random random)
    {
        var output = new ArrayBufferWriter<byte>();
        for (var i = 0; i < 8; i++)
        {
            switch (random.Next(7))
            {
                case 0:
                    PeerMessageWriter.WriteKeepAlive(output);
                    break;
                case 1:
                    PeerMessageWriter.WriteUnchoke(output);
                    break;
                case 2:
                    PeerMessageWriter.WriteHave(output, random.Next());
                    break;
                case 3:
                    PeerMessageWriter.WriteRequest(output, random.Next(), random.Next(), random.Next(1, 16385));
                    break;
                case 4:
                    PeerMessageWriter.WritePiece(output, random.Next(), random.Next(), new byte[random.Next(0, 100)]);
                    break;
                case 5:
                    PeerMessageWriter.WriteBitfield(output, new byte[random.Next(0, 20)]);
                    break;
                default:
                    PeerMessageWriter.WriteExtended(output, (byte)random.Next(256), "d1:mdee"u8);
                    break;
            }
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Reads until NeedMoreData or a protocol error; anything else fails the test.</summary>
    private static void ReadAll(ReadOnlySequence<byte> buffer)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            for (var frames = 0; frames < 10_000; frames++)
            {
                var length = buffer.Length;
                var status = PeerMessageReader.TryRead(ref buffer, Max, out var message);
                if (status == OperationStatus.NeedMoreData)
                {
                    Assert.Equal(length, buffer.Length);
                    return;
                }

                Assert.Equal(OperationStatus.Done, status);
                Assert.True(buffer.Length < length, "Done must consume bytes");
                Assert.True(message.Block.Length <= Max && message.Bits.Length <= Max && message.ExtendedPayload.Length <= Max);
            }

            Assert.Fail("reader did not terminate");
        }
        catch (PeerProtocolException)
        {
        }

        // Only exceptions may allocate; a claimed length never turns into a buffer.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 * 1024);
    }

    [Fact]
    public void TryRead_MutatedAndTruncatedStreams_OnlyNeedMoreDataOrProtocolException()
    {
        var random = new Random(2024);
        for (var round = 0; round < 3000; round++)
        {
            var bytes = ValidStream(random);
            var mutations = random.Next(0, 4);
            for (var m = 0; m < mutations; m++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            var cut = random.Next(bytes.Length + 1);
            var input = bytes.AsMemory(0, cut);
            ReadAll(random.Next(2) == 0 ? new ReadOnlySequence<byte>(input) : Segments.Split(input, random.Next(cut + 1)));
        }
    }

    [Fact]
    public void TryRead_RandomBytes_OnlyNeedMoreDataOrProtocolException()
    {
        var random = new Random(99);
        for (var round = 0; round < 3000; round++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);

            // Small lengths make real frames likely: half the time keep the length word plausible.
            if (bytes.Length >= 4 && random.Next(2) == 0)
            {
                BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)random.Next(0, bytes.Length));
            }

            ReadAll(new ReadOnlySequence<byte>(bytes));
        }
    }

    [Fact]
    public void TryRead_OversizedLengths_ThrowFrameTooLarge()
    {
        var random = new Random(7);
        for (var round = 0; round < 2000; round++)
        {
            var claimed = (uint)random.NextInt64(Max + 1L, uint.MaxValue + 1L);
            var bytes = new byte[4 + random.Next(0, 8)];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, claimed);
            var buffer = Segments.Split(bytes, random.Next(bytes.Length + 1));
            var ex = Assert.Throws<PeerProtocolException>(() => PeerMessageReader.TryRead(ref buffer, Max, out _));
            Assert.Contains(claimed.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TryRead_ZeroFrameLimit_AllowsOnlyKeepAlive()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1, 2 });
        Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref buffer, 0, out var message));
        Assert.Equal(PeerMessageType.KeepAlive, message.Type);
        Assert.Throws<PeerProtocolException>(() => PeerMessageReader.TryRead(ref buffer, 0, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageReader.TryRead(ref buffer, -1, out _));
    }
}

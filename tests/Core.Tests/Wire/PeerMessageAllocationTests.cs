using System.Buffers;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Core.Tests.Wire;

public class PeerMessageAllocationTests
{
    [Fact]
    public void TryRead_TenThousandPieceAndRequestMessages_AllocatesNothing()
    {
        var output = new ArrayBufferWriter<byte>();
        var block = new byte[16 * 1024];
        for (var i = 0; i < 5_000; i++)
        {
            PeerMessageWriter.WriteRequest(output, i, 16 * 1024, 16 * 1024);
            PeerMessageWriter.WritePiece(output, i, 16 * 1024, block);
        }

        // A multi-segment input too, cut inside headers, so the slow paths are measured as well.
        var bytes = output.WrittenMemory;
        var single = new ReadOnlySequence<byte>(bytes);
        var cuts = Enumerable.Range(1, 200).Select(i => (i * 811_111) % bytes.Length).Order().Distinct().ToArray();
        var multi = Segments.Split(bytes, cuts);

        long Run(ReadOnlySequence<byte> buffer)
        {
            long checksum = 0;
            while (PeerMessageReader.TryRead(ref buffer, PeerMessageReader.DefaultMaxFrameLength, out var message) == OperationStatus.Done)
            {
                checksum += message.Index + message.Length + message.Block.Length;
            }

            Assert.True(buffer.IsEmpty);
            return checksum;
        }

        var expected = Run(single); // warm-up (JIT, static init)
        Assert.Equal(expected, Run(multi));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var a = Run(single);
        var b = Run(multi);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(expected, a);
        Assert.Equal(expected, b);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Write_PieceHeaderAndRequest_AllocatesNothingIntoAPresizedWriter()
    {
        var output = new ArrayBufferWriter<byte>(1 << 20);
        PeerMessageWriter.WriteRequest(output, 0, 0, 1);
        PeerMessageWriter.WritePieceHeader(output, 0, 0, 1);
        output.ResetWrittenCount();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            PeerMessageWriter.WriteRequest(output, i, 0, 16384);
            PeerMessageWriter.WritePieceHeader(output, i, 0, 16384);
            PeerMessageWriter.WriteHave(output, i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_000 * (17 + 13 + 9), output.WrittenCount);
    }
}

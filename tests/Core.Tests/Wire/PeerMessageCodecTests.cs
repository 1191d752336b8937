using System.Buffers;
using System.Text;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Core.Tests.Wire;

public class PeerMessageCodecTests
{
    private const int Max = PeerMessageReader.DefaultMaxFrameLength;

    private sealed record Case(byte[] Golden, Action<IBufferWriter<byte>> Write, Action<PeerMessage> Check);

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    // Golden bytes written by hand from BEP 3 / BEP 10: <len:u32be><id:u8><payload>.
    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["keep-alive"] = new(Hex("00000000"), PeerMessageWriter.WriteKeepAlive, m => Assert.Equal(PeerMessageType.KeepAlive, m.Type)),
        ["choke"] = new(Hex("00000001 00"), PeerMessageWriter.WriteChoke, m => Assert.Equal(PeerMessageType.Choke, m.Type)),
        ["unchoke"] = new(Hex("00000001 01"), PeerMessageWriter.WriteUnchoke, m => Assert.Equal(PeerMessageType.Unchoke, m.Type)),
        ["interested"] = new(Hex("00000001 02"), PeerMessageWriter.WriteInterested, m => Assert.Equal(PeerMessageType.Interested, m.Type)),
        ["not interested"] = new(Hex("00000001 03"), PeerMessageWriter.WriteNotInterested, m => Assert.Equal(PeerMessageType.NotInterested, m.Type)),
        ["have"] = new(Hex("00000005 04 01020304"), o => PeerMessageWriter.WriteHave(o, 0x01020304), m =>
        {
            Assert.Equal(PeerMessageType.Have, m.Type);
            Assert.Equal(0x01020304, m.Index);
        }),
        ["bitfield"] = new(Hex("00000003 05 A580"), o => PeerMessageWriter.WriteBitfield(o, Hex("A580")), m =>
        {
            Assert.Equal(PeerMessageType.Bitfield, m.Type);
            Assert.Equal(Hex("A580"), m.Bits.ToArray());
            Assert.True(m.Block.IsEmpty);
        }),
        ["bitfield from type"] = new(Hex("00000003 05 A580"), o =>
        {
            var bits = new Bitfield(9);
            foreach (var i in new[] { 0, 2, 5, 7, 8 })
            {
                bits.Set(i);
            }

            PeerMessageWriter.WriteBitfield(o, bits);
        }, m => Assert.Equal(Hex("A580"), m.Bits.ToArray())),
        ["request"] = new(Hex("0000000D 06 00000001 00004000 00004000"), o => PeerMessageWriter.WriteRequest(o, 1, 0x4000, 0x4000), m =>
        {
            Assert.Equal(PeerMessageType.Request, m.Type);
            Assert.Equal((1, 0x4000, 0x4000), (m.Index, m.Begin, m.Length));
        }),
        ["cancel"] = new(Hex("0000000D 08 7FFFFFFF 7FFFFFFF 00020000"), o => PeerMessageWriter.WriteCancel(o, int.MaxValue, int.MaxValue, 128 * 1024), m =>
        {
            Assert.Equal(PeerMessageType.Cancel, m.Type);
            Assert.Equal((int.MaxValue, int.MaxValue, 128 * 1024), (m.Index, m.Begin, m.Length));
        }),
        ["piece"] = new(Hex("0000000C 07 00000002 00008000 616263"), o => PeerMessageWriter.WritePiece(o, 2, 0x8000, "abc"u8), m =>
        {
            Assert.Equal(PeerMessageType.Piece, m.Type);
            Assert.Equal((2, 0x8000, 3), (m.Index, m.Begin, m.Length));
            Assert.Equal("abc"u8.ToArray(), m.Block.ToArray());
            Assert.True(m.Bits.IsEmpty);
        }),
        ["piece header then block"] = new(Hex("0000000C 07 00000002 00008000 616263"), o =>
        {
            PeerMessageWriter.WritePieceHeader(o, 2, 0x8000, 3);
            o.Write("abc"u8);
        }, m => Assert.Equal("abc"u8.ToArray(), m.Block.ToArray())),
        ["block behind a header written in place"] = new(Hex("0000000C 07 00000002 00008000 616263"), o =>
        {
            var span = o.GetSpan(16);
            "abc"u8.CopyTo(span[PeerMessageWriter.PieceHeaderLength..]);
            PeerMessageWriter.WritePieceHeader(span, 2, 0x8000, 3);
            o.Advance(16);
        }, m => Assert.Equal("abc"u8.ToArray(), m.Block.ToArray())),
        ["piece empty block"] = new(Hex("00000009 07 00000000 00000000"), o => PeerMessageWriter.WritePiece(o, 0, 0, default), m =>
        {
            Assert.Equal(PeerMessageType.Piece, m.Type);
            Assert.Equal(0, m.Length);
            Assert.True(m.Block.IsEmpty);
        }),
        ["extended"] = new(Hex("0000000A 14 03").Concat("d1:xi1ee"u8.ToArray()).ToArray(), o => PeerMessageWriter.WriteExtended(o, 3, "d1:xi1ee"u8), m =>
        {
            Assert.Equal(PeerMessageType.Extended, m.Type);
            Assert.Equal(3, m.ExtensionId);
            Assert.Equal("d1:xi1ee", Encoding.ASCII.GetString(m.ExtendedPayload.ToArray()));
        }),
        ["extended empty"] = new(Hex("00000002 14 00"), o => PeerMessageWriter.WriteExtended(o, 0, default), m =>
        {
            Assert.Equal(PeerMessageType.Extended, m.Type);
            Assert.Equal(0, m.ExtensionId);
            Assert.True(m.ExtendedPayload.IsEmpty);
        }),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Write_GivesGoldenBytes(string name)
    {
        var output = new ArrayBufferWriter<byte>();
        Cases[name].Write(output);
        Assert.Equal(Convert.ToHexString(Cases[name].Golden), Convert.ToHexString(output.WrittenSpan));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void TryRead_GoldenBytes_Decodes(string name)
    {
        var buffer = new ReadOnlySequence<byte>(Cases[name].Golden);
        Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref buffer, Max, out var message));
        Cases[name].Check(message);
        Assert.True(buffer.IsEmpty);
        Assert.False(string.IsNullOrEmpty(message.ToString()));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void TryRead_SplitAtEveryPosition_DecodesTheSame(string name)
    {
        var golden = Cases[name].Golden;
        for (var cut = 0; cut <= golden.Length; cut++)
        {
            var buffer = Segments.Split(golden, cut);
            Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref buffer, Max, out var message));
            Cases[name].Check(message);
            Assert.True(buffer.IsEmpty);

            // An empty segment at the cut as well (pipes can hand those out).
            buffer = Segments.Split(golden, cut, cut);
            Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref buffer, Max, out message));
            Cases[name].Check(message);
        }

        var bytewise = Segments.Bytewise(golden);
        Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref bytewise, Max, out var each));
        Cases[name].Check(each);
        Assert.True(bytewise.IsEmpty);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void TryRead_EveryPrefix_NeedsMoreDataAndConsumesNothing(string name)
    {
        var golden = Cases[name].Golden;
        for (var length = 0; length < golden.Length; length++)
        {
            var buffer = Segments.Split(golden.AsMemory(0, length), length / 2);
            var before = buffer;
            Assert.Equal(OperationStatus.NeedMoreData, PeerMessageReader.TryRead(ref buffer, Max, out _));
            Assert.Equal(before.Start, buffer.Start);
            Assert.Equal(before.End, buffer.End);
        }
    }

    [Fact]
    public void TryRead_AllMessagesBackToBack_SplitAtEveryPosition()
    {
        var all = Cases.Values.SelectMany(c => c.Golden).ToArray();
        var expected = Cases.Values.ToList();
        for (var cut = 0; cut <= all.Length; cut++)
        {
            var buffer = Segments.Split(all, cut);
            foreach (var c in expected)
            {
                Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref buffer, Max, out var message));
                c.Check(message);
            }

            Assert.True(buffer.IsEmpty);
            Assert.Equal(OperationStatus.NeedMoreData, PeerMessageReader.TryRead(ref buffer, Max, out _));
        }
    }

    [Fact]
    public void TryRead_PieceBlock_IsASliceOfTheInputNotACopy()
    {
        var block = new byte[16 * 1024];
        new Random(1).NextBytes(block);
        var output = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WritePiece(output, 5, 16 * 1024, block);
        var frame = output.WrittenMemory;
        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref buffer, Max, out var message));
        Assert.True(message.Block.IsSingleSegment);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(message.Block.First, out var segment));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(frame, out var input));
        Assert.Same(input.Array, segment.Array);
        Assert.Equal(input.Offset + PeerMessageWriter.PieceHeaderLength, segment.Offset);
        Assert.Equal(block, message.Block.ToArray());
    }

    [Fact]
    public void RoundTrip_RandomMessages()
    {
        var random = new Random(42);
        for (var i = 0; i < 500; i++)
        {
            var index = random.Next();
            var begin = random.Next();
            var length = random.Next(1, PeerMessageReader.MaxBlockLength + 1);
            var block = new byte[random.Next(0, 2000)];
            random.NextBytes(block);
            var output = new ArrayBufferWriter<byte>();
            PeerMessageWriter.WriteHave(output, index);
            PeerMessageWriter.WriteRequest(output, index, begin, length);
            PeerMessageWriter.WritePiece(output, index, begin, block);
            PeerMessageWriter.WriteCancel(output, index, begin, length);
            PeerMessageWriter.WriteExtended(output, (byte)i, block);
            PeerMessageWriter.WriteBitfield(output, block);

            var buffer = Segments.Split(output.WrittenMemory, random.Next(output.WrittenCount + 1));
            Read(ref buffer, PeerMessageType.Have, m => Assert.Equal(index, m.Index));
            Read(ref buffer, PeerMessageType.Request, m => Assert.Equal((index, begin, length), (m.Index, m.Begin, m.Length)));
            Read(ref buffer, PeerMessageType.Piece, m =>
            {
                Assert.Equal((index, begin, block.Length), (m.Index, m.Begin, m.Length));
                Assert.Equal(block, m.Block.ToArray());
            });
            Read(ref buffer, PeerMessageType.Cancel, m => Assert.Equal((index, begin, length), (m.Index, m.Begin, m.Length)));
            Read(ref buffer, PeerMessageType.Extended, m =>
            {
                Assert.Equal((byte)i, m.ExtensionId);
                Assert.Equal(block, m.ExtendedPayload.ToArray());
            });
            Read(ref buffer, PeerMessageType.Bitfield, m => Assert.Equal(block, m.Bits.ToArray()));
            Assert.True(buffer.IsEmpty);
        }

        static void Read(ref ReadOnlySequence<byte> buffer, PeerMessageType type, Action<PeerMessage> check)
        {
            Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref buffer, Max, out var message));
            Assert.Equal(type, message.Type);
            check(message);
        }
    }

    [Theory]
    [InlineData(9)]
    [InlineData(13)]
    [InlineData(17)]
    [InlineData(21)]
    [InlineData(255)]
    public void TryRead_UnknownId_IsConsumedAndReported(byte id)
    {
        var frame = Hex($"00000004 {id:X2} AABBCC 00000001 02");
        var buffer = Segments.Split(frame, 6);
        Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref buffer, Max, out var message));
        Assert.Equal(PeerMessageType.Unknown, message.Type);
        Assert.Equal(id, message.MessageId);
        Assert.Equal(Hex("AABBCC"), message.UnknownPayload.ToArray());
        Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref buffer, Max, out message));
        Assert.Equal(PeerMessageType.Interested, message.Type);
    }

    [Fact]
    public void TryRead_FrameTooLarge_ThrowsOnTheLengthAlone()
    {
        // Only the 4 length bytes are present: the limit is enforced before anything else is buffered.
        var buffer = new ReadOnlySequence<byte>(Hex("00004001"));
        var ex = Assert.Throws<PeerProtocolException>(() => PeerMessageReader.TryRead(ref buffer, 0x4000, out _));
        Assert.Contains("16385", ex.Message, StringComparison.Ordinal);
        Assert.Contains("16384", ex.Message, StringComparison.Ordinal);

        buffer = new ReadOnlySequence<byte>(Hex("FFFFFFFF"));
        ex = Assert.Throws<PeerProtocolException>(() => PeerMessageReader.TryRead(ref buffer, Max, out _));
        Assert.Contains("4294967295", ex.Message, StringComparison.Ordinal);

        // Exactly at the limit is fine (and waits for the rest).
        buffer = new ReadOnlySequence<byte>(Hex("00004000 07"));
        Assert.Equal(OperationStatus.NeedMoreData, PeerMessageReader.TryRead(ref buffer, 0x4000, out _));
    }

    [Theory]
    [InlineData("00000002 00 00", "Choke")]
    [InlineData("00000002 01 00", "Unchoke")]
    [InlineData("00000002 02 00", "Interested")]
    [InlineData("00000002 03 00", "NotInterested")]
    [InlineData("00000004 04 000000", "Have")]
    [InlineData("00000006 04 0000000000", "Have")]
    [InlineData("00000001 04", "Have")]
    [InlineData("0000000C 06 0000000000000000000040", "Request")]
    [InlineData("0000000E 06 000000000000000000004000 00", "Request")]
    [InlineData("0000000C 08 0000000000000000000040", "Cancel")]
    [InlineData("00000008 07 00000000000000", "Piece")]
    [InlineData("00000001 07", "Piece")]
    [InlineData("00000001 14", "Extended")]
    public void TryRead_MalformedPayloadSize_Throws(string hex, string type)
    {
        var buffer = new ReadOnlySequence<byte>(Hex(hex));
        var ex = Assert.Throws<PeerProtocolException>(() => PeerMessageReader.TryRead(ref buffer, Max, out _));
        Assert.StartsWith(type + " message", ex.Message, StringComparison.Ordinal);
        Assert.Contains("payload", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0000000D 06 00000000 00000000 00000000")]
    [InlineData("0000000D 06 00000000 00000000 00020001")]
    [InlineData("0000000D 08 00000000 00000000 FFFFFFFF")]
    public void TryRead_RequestLengthOutOfRange_Throws(string hex)
    {
        var buffer = new ReadOnlySequence<byte>(Hex(hex));
        var ex = Assert.Throws<PeerProtocolException>(() => PeerMessageReader.TryRead(ref buffer, Max, out _));
        Assert.Contains("block of", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00000005 04 80000000", "index")]
    [InlineData("0000000D 06 80000000 00000000 00004000", "index")]
    [InlineData("0000000D 06 00000000 FFFFFFFF 00004000", "begin")]
    [InlineData("00000009 07 00000000 80000000", "begin")]
    public void TryRead_FieldBeyondInt32_Throws(string hex, string field)
    {
        var buffer = new ReadOnlySequence<byte>(Hex(hex));
        var ex = Assert.Throws<PeerProtocolException>(() => PeerMessageReader.TryRead(ref buffer, Max, out _));
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writers_RejectNegativeFields()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WriteHave(output, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WriteRequest(output, 0, -1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WriteRequest(output, 0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WritePieceHeader(output, -1, 0, 1));
        Assert.Equal(0, output.WrittenCount);
    }
}

using System.Buffers;
using System.Text;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Core.Tests.Wire;

public class HandshakeTests
{
    private static readonly byte[] InfoHashBytes = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();
    private static readonly byte[] PeerIdBytes = Encoding.ASCII.GetBytes("-PR0001-abcdefghijkl");

    // BEP 3, by hand: 19, "BitTorrent protocol", reserved (byte 5 = 0x10 for BEP 10), info hash, peer id.
    private static readonly byte[] Golden =
    [
        19, .. "BitTorrent protocol"u8,
        0, 0, 0, 0, 0, 0x10, 0, 0,
        .. InfoHashBytes,
        .. PeerIdBytes,
    ];

    [Fact]
    public void Write_GivesGoldenBytes()
    {
        var output = new ArrayBufferWriter<byte>();
        new Handshake(new InfoHash(InfoHashBytes), new PeerId(PeerIdBytes)).Write(output);
        Assert.Equal(68, Handshake.Length);
        Assert.Equal(Golden, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void TryRead_SplitAtEveryPosition_Decodes()
    {
        var trailing = new byte[] { 0, 0, 0, 1, 2 }; // an interested message right behind it
        var stream = Golden.Concat(trailing).ToArray();
        for (var cut = 0; cut <= stream.Length; cut++)
        {
            var buffer = Segments.Split(stream, cut);
            Assert.Equal(OperationStatus.Done, Handshake.TryRead(ref buffer, out var handshake));
            Assert.Equal(new InfoHash(InfoHashBytes), handshake.InfoHash);
            Assert.Equal(new PeerId(PeerIdBytes), handshake.PeerId);
            Assert.True(handshake.SupportsExtensionProtocol);
            Assert.Equal(trailing, buffer.ToArray());
        }
    }

    [Fact]
    public void TryRead_EveryPrefix_NeedsMoreData()
    {
        for (var length = 0; length < Golden.Length; length++)
        {
            var buffer = Segments.Split(Golden.AsMemory(0, length), length / 3);
            Assert.Equal(OperationStatus.NeedMoreData, Handshake.TryRead(ref buffer, out _));
            Assert.Equal(length, buffer.Length);
        }
    }

    [Fact]
    public void Reserved_WithoutExtensionBit_IsReported()
    {
        var bytes = (byte[])Golden.Clone();
        bytes[25] = 0;
        bytes[27] = 0x05; // DHT and fast extension bits: kept, not ours to interpret
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(OperationStatus.Done, Handshake.TryRead(ref buffer, out var handshake));
        Assert.False(handshake.SupportsExtensionProtocol);
        Assert.Equal(0x05UL, handshake.Reserved);

        var output = new ArrayBufferWriter<byte>();
        handshake.Write(output);
        Assert.Equal(bytes, output.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(0, 18, "length 18")]
    [InlineData(0, 0x13 + 1, "length 20")]
    [InlineData(1, (byte)'b', "not 'BitTorrent protocol'")]
    [InlineData(19, (byte)'L', "not 'BitTorrent protocol'")]
    public void TryRead_WrongProtocol_FailsAsSoonAsTheWrongByteArrives(int at, byte value, string reason)
    {
        var bytes = (byte[])Golden.Clone();
        bytes[at] = value;
        var buffer = new ReadOnlySequence<byte>(bytes.AsMemory(0, at + 1));
        var ex = Assert.Throws<PeerProtocolException>(() => Handshake.TryRead(ref buffer, out _));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_HttpRequest_IsRefused()
    {
        var buffer = new ReadOnlySequence<byte>("GET / HTTP/1.1\r\n"u8.ToArray());
        Assert.Throws<PeerProtocolException>(() => Handshake.TryRead(ref buffer, out _));
    }

    [Fact]
    public void PeerId_CreateRandom_HasClientPrefixAndIsUnique()
    {
        var a = PeerId.CreateRandom();
        var b = PeerId.CreateRandom();
        Assert.NotEqual(a, b);
        Assert.StartsWith(PeerId.ClientPrefix, a.ToString(), StringComparison.Ordinal);
        Assert.Equal(20, a.ToString().Length);
        Assert.Equal(a, new PeerId(a.ToArray()));
        Assert.True(a == new PeerId(a.ToArray()));
        Assert.Equal(a.GetHashCode(), new PeerId(a.ToArray()).GetHashCode());
        Assert.Equal(40, a.ToHex().Length);
        Assert.Throws<ArgumentException>(() => new PeerId(new byte[19]));
    }

    [Fact]
    public void PeerId_ToString_MasksUnprintableBytes()
    {
        var bytes = new byte[20];
        "-qB4650-"u8.CopyTo(bytes);
        bytes[8] = 0xff;
        Assert.Equal("-qB4650-" + new string('.', 12), new PeerId(bytes).ToString());
    }
}

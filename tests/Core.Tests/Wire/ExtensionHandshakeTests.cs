using System.Buffers;
using System.Text;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Core.Tests.Wire;

public class ExtensionHandshakeTests
{
    [Fact]
    public void WriteMessage_GivesGoldenBytes()
    {
        var handshake = new ExtensionHandshake
        {
            Messages = new Dictionary<string, byte> { ["ut_pex"] = 2, ["p2pregistry_x"] = 1 },
            Port = 6881,
            Client = "P2PRegistry 0.1",
            RequestQueueLength = 250,
            MaxBlockLength = 131072,
        };
        var output = new ArrayBufferWriter<byte>();
        handshake.WriteMessage(output);

        // Keys in raw byte order ('p' < 'p2pregistry_block' < 'reqq' < 'v'), as BEP 3 requires.
        const string dict = "d1:md13:p2pregistry_xi1e6:ut_pexi2ee1:pi6881e17:p2pregistry_blocki131072e4:reqqi250e1:v15:P2PRegistry 0.1e";
        var expected = new byte[] { 0, 0, 0, (byte)(dict.Length + 2), 20, 0 }.Concat(Encoding.ASCII.GetBytes(dict)).ToArray();
        Assert.Equal(Encoding.Latin1.GetString(expected), Encoding.Latin1.GetString(output.WrittenSpan));
    }

    [Fact]
    public void Zone_RoundTrips_AfterTheBlockKey()
    {
        var output = new ArrayBufferWriter<byte>();
        new ExtensionHandshake { MaxBlockLength = 65536, Zone = "zone-b", RequestQueueLength = 10 }.WriteDictionary(output);

        Assert.Equal("d1:mde17:p2pregistry_blocki65536e16:p2pregistry_zone6:zone-b4:reqqi10ee", Encoding.ASCII.GetString(output.WrittenSpan));
        Assert.Equal("zone-b", ExtensionHandshake.Decode(new ReadOnlySequence<byte>(output.WrittenMemory)).Zone);
    }

    [Fact]
    public void LazyHave_RoundTrips_BetweenTheBlockAndZoneKeys()
    {
        var output = new ArrayBufferWriter<byte>();
        new ExtensionHandshake { MaxBlockLength = 65536, LazyHave = true, Zone = "a" }.WriteDictionary(output);

        Assert.Equal("d1:mde17:p2pregistry_blocki65536e21:p2pregistry_lazy_havei1e16:p2pregistry_zone1:ae", Encoding.ASCII.GetString(output.WrittenSpan));
        Assert.True(ExtensionHandshake.Decode(new ReadOnlySequence<byte>(output.WrittenMemory)).LazyHave);
    }

    [Theory]
    [InlineData("d1:mdee", false)] // a standard client: every have
    [InlineData("d21:p2pregistry_lazy_havei0ee", false)]
    [InlineData("d21:p2pregistry_lazy_havei1ee", true)]
    [InlineData("d21:p2pregistry_lazy_havei2ee", false)] // a value a later version may define: not the flag, not refused
    [InlineData("d21:p2pregistry_lazy_have1:1e", false)]
    public void Decode_LazyHave(string dict, bool expected) =>
        Assert.Equal(expected, ExtensionHandshake.Decode(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(dict))).LazyHave);

    [Theory]
    [InlineData("d16:p2pregistry_zonei1ee")]
    [InlineData("d16:p2pregistry_zone4:a b.e")]
    [InlineData("d16:p2pregistry_zone64:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaae")]
    public void Decode_ZoneThatIsNoTopologyLabel_Refused(string dict) =>
        Assert.Throws<PeerProtocolException>(() => ExtensionHandshake.Decode(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(dict))));

    [Fact]
    public void RoundTrip_ThroughThePeerMessageReader()
    {
        var handshake = new ExtensionHandshake
        {
            Messages = new Dictionary<string, byte> { ["ut_metadata"] = 3 },
            Port = 50000,
            Client = "P2PRegistry/é",
            RequestQueueLength = 500,
            MaxBlockLength = 65536,
        };
        var output = new ArrayBufferWriter<byte>();
        handshake.WriteMessage(output);
        var buffer = Segments.Split(output.WrittenMemory, 7);
        Assert.Equal(OperationStatus.Done, PeerMessageReader.TryRead(ref buffer, PeerMessageReader.DefaultMaxFrameLength, out var message));
        Assert.Equal(PeerMessageType.Extended, message.Type);
        Assert.Equal(ExtensionHandshake.HandshakeExtensionId, message.ExtensionId);

        var decoded = ExtensionHandshake.Decode(message.ExtendedPayload);
        Assert.Equal(3, decoded.Messages["ut_metadata"]);
        Assert.Single(decoded.Messages);
        Assert.Equal(50000, decoded.Port);
        Assert.Equal("P2PRegistry/é", decoded.Client);
        Assert.Equal(500, decoded.RequestQueueLength);
        Assert.Equal(65536, decoded.MaxBlockLength);
    }

    [Fact]
    public void Decode_StandardClient_IgnoresUnknownKeysAndDisabledExtensions()
    {
        // What a standard client sends: extra keys we do not use, an extension disabled with id 0.
        const string dict = "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e11:ut_metadatai0e6:ut_pexi1ee13:metadata_sizei0e1:pi6881e4:reqqi250e1:v12:aria2/1.36.06:yourip4:\u007f\0\0\u0001e";
        var decoded = ExtensionHandshake.Decode(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(dict)));
        Assert.Equal("aria2/1.36.0", decoded.Client);
        Assert.Equal(6881, decoded.Port);
        Assert.Equal(250, decoded.RequestQueueLength);
        Assert.Null(decoded.MaxBlockLength);
        Assert.False(decoded.Messages.ContainsKey("ut_metadata"));
        Assert.Equal(1, decoded.Messages["ut_pex"]);
        Assert.Equal(4, decoded.Messages.Count);
    }

    [Fact]
    public void Decode_Empty_GivesNothing()
    {
        var decoded = ExtensionHandshake.Decode(new ReadOnlySequence<byte>("de"u8.ToArray()));
        Assert.Empty(decoded.Messages);
        Assert.Null(decoded.Port);
        Assert.Null(decoded.Client);
    }

    [Theory]
    [InlineData("")]
    [InlineData("le")]
    [InlineData("d1:mi1ee")]
    [InlineData("d1:md1:xi256eee")]
    [InlineData("d1:md1:xi-1eee")]
    [InlineData("d1:md1:x1:aee")]
    [InlineData("d1:pi0ee")]
    [InlineData("d1:pi65536ee")]
    [InlineData("d4:reqqi0ee")]
    [InlineData("d1:vi1ee")]
    [InlineData("d17:p2pregistry_blocki-5ee")]
    [InlineData("d1:v1:x1:mdee")] // unsorted keys
    [InlineData("d1:md")] // truncated
    public void Decode_Invalid_ThrowsPeerProtocolException(string latin1)
    {
        var ex = Assert.Throws<PeerProtocolException>(() => ExtensionHandshake.Decode(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(latin1))));
        Assert.StartsWith("Invalid extension handshake", ex.Message, StringComparison.Ordinal);
    }
}

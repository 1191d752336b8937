using System.Buffers;
using System.Text;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Pieces;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Core.Tests.Wire;

/// <summary>Hostile handshakes, extension handshakes and bitfields: a typed failure or a value, nothing else.</summary>
public class HandshakeFuzzTests
{
    [Fact]
    public void Handshake_MutatedAndTruncated_OnlyNeedMoreDataDoneOrProtocolException()
    {
        var output = new ArrayBufferWriter<byte>();
        new Handshake(new InfoHash(new byte[20]), PeerId.CreateRandom()).Write(output);
        var golden = output.WrittenSpan.ToArray();
        var random = new Random(5);
        for (var round = 0; round < 3000; round++)
        {
            var bytes = (byte[])golden.Clone();
            for (var m = random.Next(0, 3); m > 0; m--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            var cut = random.Next(bytes.Length + 1);
            var buffer = Segments.Split(bytes.AsMemory(0, cut), random.Next(cut + 1));
            try
            {
                var status = Handshake.TryRead(ref buffer, out _);
                Assert.Equal(cut == bytes.Length ? OperationStatus.Done : OperationStatus.NeedMoreData, status);
                Assert.Equal(status == OperationStatus.Done ? 0 : cut, buffer.Length);
            }
            catch (PeerProtocolException)
            {
                // Only a damaged prefix may be refused; reserved bytes, info hash and peer id are free-form.
                Assert.NotEqual(golden.AsSpan(0, 20).ToArray(), bytes.AsSpan(0, 20).ToArray());
            }
        }
    }

    [Fact]
    public void ExtensionHandshake_RandomAndMutated_OnlyProtocolException()
    {
        var output = new ArrayBufferWriter<byte>();
        new ExtensionHandshake
        {
            Messages = new Dictionary<string, byte> { ["ut_pex"] = 1, ["ut_metadata"] = 2 },
            Port = 6881,
            Client = "x",
            RequestQueueLength = 10,
            MaxBlockLength = 65536,
        }.WriteDictionary(output);
        var golden = output.WrittenSpan.ToArray();
        var alphabet = "dlie0123456789:-mpv"u8.ToArray();
        var random = new Random(6);
        for (var round = 0; round < 3000; round++)
        {
            var bytes = (byte[])golden.Clone();
            for (var m = random.Next(1, 4); m > 0; m--)
            {
                bytes[random.Next(bytes.Length)] = random.Next(2) == 0 ? alphabet[random.Next(alphabet.Length)] : (byte)random.Next(256);
            }

            var input = bytes.AsMemory(0, random.Next(2) == 0 ? bytes.Length : random.Next(bytes.Length + 1));
            try
            {
                ExtensionHandshake.Decode(Segments.Split(input, random.Next(input.Length + 1)));
            }
            catch (PeerProtocolException)
            {
            }
        }
    }

    [Fact]
    public void Bitfield_RandomWireBytes_OnlyTrueOrFalse()
    {
        var random = new Random(8);
        for (var round = 0; round < 3000; round++)
        {
            var count = random.Next(0, 100);
            var bytes = new byte[random.Next(0, 16)];
            random.NextBytes(bytes);
            var bits = new Bitfield(count);
            if (bits.TryReadFrom(Segments.Split(bytes, random.Next(bytes.Length + 1)), out var error))
            {
                Assert.Null(error);
                Assert.Equal(bytes, bits.ToArray());
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
                Assert.True(bits.NoneSet);
            }
        }
    }
}

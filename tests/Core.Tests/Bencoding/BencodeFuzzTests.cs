using System.Buffers;
using System.Text;
using P2PRegistry.Core.Bencoding;

namespace P2PRegistry.Core.Tests.Bencoding;

/// <summary>Hostile and damaged input: the decoder may only answer with a value or a BencodeException.</summary>
public class BencodeFuzzTests
{
    private static readonly byte[] Alphabet = "ilde0123456789:-x"u8.ToArray();

    private static byte[] Sample()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new BencodeWriter(buffer);
        w.WriteStartDictionary();
        w.WriteString("announce"u8);
        w.WriteString("http://127.0.0.1:1/announce"u8);
        w.WriteString("info"u8);
        w.WriteStartDictionary();
        w.WriteString("length"u8);
        w.WriteInteger(123456789);
        w.WriteString("list"u8);
        w.WriteStartList();
        w.WriteInteger(-5);
        w.WriteString("x"u8);
        w.WriteStartList();
        w.WriteEnd();
        w.WriteEnd();
        w.WriteString("pieces"u8);
        w.WriteString(new byte[60]);
        w.WriteEnd();
        w.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    private static void DecodeOrBencodeException(byte[] input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            BencodeDecoder.Decode(input);
        }
        catch (BencodeException)
        {
        }

        // Whatever length the input claims, decoding costs a bounded multiple of its real size.
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024 + (input.Length * 256L), $"Decoding {input.Length} bytes allocated {allocated} bytes: {Encoding.Latin1.GetString(input)}");
    }

    [Fact]
    public void Decode_EveryTruncation_ThrowsBencodeException()
    {
        var sample = Sample();
        Assert.IsType<BencodeDictionary>(BencodeDecoder.Decode(sample));
        for (var length = 0; length < sample.Length; length++)
        {
            var prefix = sample.AsMemory(0, length);
            Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(prefix));
        }
    }

    [Fact]
    public void Decode_MutatedSamples_OnlyBencodeException()
    {
        var random = new Random(1234);
        var sample = Sample();
        for (var i = 0; i < 3000; i++)
        {
            var input = (byte[])sample.Clone();
            var mutations = random.Next(1, 4);
            for (var m = 0; m < mutations; m++)
            {
                var at = random.Next(input.Length);
                input[at] = random.Next(3) == 0 ? (byte)random.Next(256) : Alphabet[random.Next(Alphabet.Length)];
            }

            var cut = random.Next(2) == 0 ? input.Length : random.Next(input.Length + 1);
            DecodeOrBencodeException(input[..cut]);
        }
    }

    [Fact]
    public void Decode_RandomBytes_OnlyBencodeException()
    {
        var random = new Random(5678);
        for (var i = 0; i < 3000; i++)
        {
            var input = new byte[random.Next(0, 64)];
            for (var j = 0; j < input.Length; j++)
            {
                input[j] = Alphabet[random.Next(Alphabet.Length)];
            }

            DecodeOrBencodeException(input);
        }
    }

    [Theory]
    [InlineData("2147483647:")]
    [InlineData("999999999999999999:")]
    [InlineData("l2147483647:e")]
    [InlineData("d4:spam2147483647:")]
    public void Decode_HugeClaimedStringLength_FailsWithoutAllocating(string latin1)
    {
        DecodeOrBencodeException(Encoding.Latin1.GetBytes(latin1));
    }
}

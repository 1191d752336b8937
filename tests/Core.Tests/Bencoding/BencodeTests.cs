using System.Buffers;
using System.Text;
using P2PRegistry.Core.Bencoding;

namespace P2PRegistry.Core.Tests.Bencoding;

public class BencodeTests
{
    private delegate void Write(BencodeWriter writer);

    private static string Encode(Write write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new BencodeWriter(buffer));
        return Encoding.Latin1.GetString(buffer.WrittenSpan);
    }

    private static BencodeValue Decode(string latin1) => BencodeDecoder.Decode(Encoding.Latin1.GetBytes(latin1));

    [Theory]
    [InlineData(0L, "i0e")]
    [InlineData(3L, "i3e")]
    [InlineData(-3L, "i-3e")]
    [InlineData(1234567890123L, "i1234567890123e")]
    [InlineData(long.MaxValue, "i9223372036854775807e")]
    [InlineData(long.MinValue, "i-9223372036854775808e")]
    public void Integer_GoldenBytes_AndRoundTrip(long value, string golden)
    {
        Assert.Equal(golden, Encode(w => w.WriteInteger(value)));
        var decoded = Assert.IsType<BencodeInteger>(Decode(golden));
        Assert.Equal(value, decoded.Value);
        Assert.Equal(golden, Encoding.Latin1.GetString(decoded.Raw.Span));
    }

    [Fact]
    public void String_GoldenBytes_AndRoundTrip()
    {
        Assert.Equal("4:spam", Encode(w => w.WriteString("spam"u8)));
        Assert.Equal("4:spam", Encode(w => w.WriteString("spam")));
        Assert.Equal("0:", Encode(w => w.WriteString(ReadOnlySpan<byte>.Empty)));
        Assert.Equal("0:", Encode(w => w.WriteString("")));
        // The string overload writes UTF-8 and counts bytes, not chars.
        Assert.Equal("2:\u00c3\u00a9", Encode(w => w.WriteString("é")));

        var binary = new byte[256];
        for (var i = 0; i < binary.Length; i++)
        {
            binary[i] = (byte)i;
        }

        var buffer = new ArrayBufferWriter<byte>();
        new BencodeWriter(buffer).WriteString(binary);
        Assert.Equal("256:"u8.ToArray().Concat(binary).ToArray(), buffer.WrittenSpan.ToArray());
        var decoded = Assert.IsType<BencodeString>(BencodeDecoder.Decode(buffer.WrittenMemory));
        Assert.Equal(binary, decoded.Value.ToArray());

        var spam = Assert.IsType<BencodeString>(Decode("4:spam"));
        Assert.Equal("spam", spam.Text);
        Assert.Equal("", Assert.IsType<BencodeString>(Decode("0:")).Text);
    }

    [Fact]
    public void List_GoldenBytes_AndRoundTrip()
    {
        var golden = Encode(w =>
        {
            w.WriteStartList();
            w.WriteString("spam"u8);
            w.WriteInteger(42);
            w.WriteStartList();
            w.WriteEnd();
            w.WriteEnd();
        });
        Assert.Equal("l4:spami42elee", golden);
        var list = Assert.IsType<BencodeList>(Decode(golden));
        Assert.Equal(3, list.Items.Count);
        Assert.Equal("spam", Assert.IsType<BencodeString>(list.Items[0]).Text);
        Assert.Equal(42, Assert.IsType<BencodeInteger>(list.Items[1]).Value);
        Assert.Empty(Assert.IsType<BencodeList>(list.Items[2]).Items);
        Assert.Equal("le", Encoding.Latin1.GetString(list.Items[2].Raw.Span));
        Assert.Equal("i42e", Encoding.Latin1.GetString(list.Items[1].Raw.Span));
    }

    [Fact]
    public void Dictionary_GoldenBytes_AndRoundTrip()
    {
        var golden = Encode(w =>
        {
            w.WriteStartDictionary();
            w.WriteString("cow"u8);
            w.WriteString("moo"u8);
            w.WriteString("spam"u8);
            w.WriteStartList();
            w.WriteString("a"u8);
            w.WriteString("b"u8);
            w.WriteEnd();
            w.WriteEnd();
        });
        Assert.Equal("d3:cow3:moo4:spaml1:a1:bee", golden); // BEP 3's own example
        var dict = Assert.IsType<BencodeDictionary>(Decode(golden));
        Assert.Equal(2, dict.Entries.Count);
        Assert.Equal("moo", dict.GetString("cow")!.Text);
        Assert.Equal(2, dict.GetList("spam")!.Items.Count);
        Assert.Null(dict["missing"]);
        Assert.Null(dict.GetString("spam"));
        Assert.Null(dict.GetDictionary("cow"));
        Assert.False(dict.TryGetInteger("cow", out _));
        Assert.Equal("de", Encode(w =>
        {
            w.WriteStartDictionary();
            w.WriteEnd();
        }));
        Assert.Empty(Assert.IsType<BencodeDictionary>(Decode("de")).Entries);
    }

    [Fact]
    public void Dictionary_Raw_IsExactSubrange()
    {
        const string golden = "d4:infod6:lengthi5eee";
        var outer = Assert.IsType<BencodeDictionary>(Decode(golden));
        var info = outer.GetDictionary("info")!;
        Assert.Equal("d6:lengthi5ee", Encoding.Latin1.GetString(info.Raw.Span));
        Assert.True(info.TryGetInteger("length", out var length));
        Assert.Equal(5, length);
    }

    [Fact]
    public void Dictionary_KeysAreLatin1_SoEveryByteKeyIsDistinct()
    {
        var dict = Assert.IsType<BencodeDictionary>(Decode("d1:\u00ffi1e2:\u00ff\u00ffi2ee"));
        Assert.True(dict.TryGetInteger("\u00ff", out var one));
        Assert.Equal(1, one);
        Assert.True(dict.TryGetInteger("\u00ff\u00ff", out var two));
        Assert.Equal(2, two);
    }

    [Fact]
    public void WriteRaw_CopiesVerbatim()
    {
        Assert.Equal("d4:infod1:ai1eee", Encode(w =>
        {
            w.WriteStartDictionary();
            w.WriteString("info"u8);
            w.WriteRaw("d1:ai1ee"u8);
            w.WriteEnd();
        }));
    }

    [Theory]
    [InlineData("", "end of input")]
    [InlineData("i", "digits")]
    [InlineData("ie", "digits")]
    [InlineData("i-e", "digits")]
    [InlineData("i03e", "Leading zero")]
    [InlineData("i00e", "Leading zero")]
    [InlineData("i-03e", "Leading zero")]
    [InlineData("i-0e", "Negative zero")]
    [InlineData("i1", "Expected 'e'")]
    [InlineData("i1x", "Expected 'e'")]
    [InlineData("i+1e", "digits")]
    [InlineData("i 1e", "digits")]
    [InlineData("i9223372036854775808e", "too large")]
    [InlineData("i-9223372036854775809e", "too large")]
    [InlineData("i99999999999999999999999999e", "too large")]
    [InlineData("01:a", "Leading zero")]
    [InlineData("-1:a", "Unexpected byte")]
    [InlineData("5:abc", "past the end")]
    [InlineData("9999999999:abc", "past the end")]
    [InlineData("99999999999999999999:abc", "too large")]
    [InlineData("2147483648:abc", "past the end")]
    [InlineData("4spam", "Expected ':'")]
    [InlineData("i1ei2e", "Trailing")]
    [InlineData("4:spamx", "Trailing")]
    [InlineData("dee", "Trailing")]
    [InlineData("l", "Unterminated list")]
    [InlineData("li1e", "Unterminated list")]
    [InlineData("d", "Unterminated dictionary")]
    [InlineData("d1:a", "end of input")]
    [InlineData("d1:ai1e", "Unterminated dictionary")]
    [InlineData("di1ei2ee", "not a string")]
    [InlineData("dle1:ae", "not a string")]
    [InlineData("d1:bi1e1:ai2ee", "not sorted")]
    [InlineData("d1:ai1e1:ai2ee", "not sorted")]
    [InlineData("d2:abi1e1:ai2ee", "not sorted")]
    [InlineData("x", "Unexpected byte")]
    [InlineData("e", "Unexpected byte")]
    public void Decode_Invalid_ThrowsBencodeException(string latin1, string reason)
    {
        var ex = Assert.Throws<BencodeException>(() => Decode(latin1));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.InRange(ex.Position, 0, latin1.Length);
    }

    [Fact]
    public void Decode_SortedKeysByRawBytes_NotByLength()
    {
        // "ab" sorts before "b" in raw byte order, even though it is longer.
        var dict = Assert.IsType<BencodeDictionary>(Decode("d2:abi1e1:bi2ee"));
        Assert.Equal(2, dict.Entries.Count);
        // A key that is a prefix of the next sorts first.
        Assert.IsType<BencodeDictionary>(Decode("d1:ai1e2:abi2ee"));
    }

    [Fact]
    public void Decode_DepthLimit_IsEnforced()
    {
        var ok = new string('l', BencodeDecoder.DefaultMaxDepth + 1) + new string('e', BencodeDecoder.DefaultMaxDepth + 1);
        Assert.IsType<BencodeList>(Decode(ok));
        var tooDeep = new string('l', BencodeDecoder.DefaultMaxDepth + 2) + new string('e', BencodeDecoder.DefaultMaxDepth + 2);
        var ex = Assert.Throws<BencodeException>(() => Decode(tooDeep));
        Assert.Contains("Nesting", ex.Message, StringComparison.Ordinal);

        // A deep input far past the limit fails fast instead of overflowing the stack.
        var hostile = new string('l', 1_000_000);
        Assert.Throws<BencodeException>(() => Decode(hostile));

        Assert.Throws<BencodeException>(() => BencodeDecoder.Decode("lllleeee"u8.ToArray(), maxDepth: 2));
        Assert.IsType<BencodeList>(BencodeDecoder.Decode("llleee"u8.ToArray(), maxDepth: 2));
    }

    [Fact]
    public void Decode_ElementLimit_IsEnforced()
    {
        var list = "l" + string.Concat(Enumerable.Repeat("i1e", 9)) + "e"; // 10 elements with the list
        Assert.IsType<BencodeList>(BencodeDecoder.Decode(Encoding.Latin1.GetBytes(list), maxElements: 10));
        var ex = Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(Encoding.Latin1.GetBytes(list), maxElements: 9));
        Assert.Contains("elements", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NestedStructure_RoundTripsByteExact()
    {
        var golden = Encode(w =>
        {
            w.WriteStartDictionary();
            w.WriteString("a"u8);
            w.WriteStartDictionary();
            w.WriteString("x"u8);
            w.WriteInteger(-7);
            w.WriteEnd();
            w.WriteString("b"u8);
            w.WriteStartList();
            w.WriteStartDictionary();
            w.WriteEnd();
            w.WriteString("\0\u00ff"u8);
            w.WriteEnd();
            w.WriteEnd();
        });
        var value = Decode(golden);
        Assert.Equal(golden, Reencode(value));
    }

    /// <summary>Writes a decoded value back with the writer (dictionary entries in the decoder's sorted order).</summary>
    internal static string Reencode(BencodeValue value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new BencodeWriter(buffer);
        WriteValue(ref writer, value);
        return Encoding.Latin1.GetString(buffer.WrittenSpan);
    }

    private static void WriteValue(ref BencodeWriter writer, BencodeValue value)
    {
        switch (value)
        {
            case BencodeInteger i:
                writer.WriteInteger(i.Value);
                break;
            case BencodeString s:
                writer.WriteString(s.Value.Span);
                break;
            case BencodeList l:
                writer.WriteStartList();
                foreach (var item in l.Items)
                {
                    WriteValue(ref writer, item);
                }

                writer.WriteEnd();
                break;
            case BencodeDictionary d:
                writer.WriteStartDictionary();
                foreach (var (key, item) in d.Entries.OrderBy(e => Encoding.Latin1.GetBytes(e.Key), ByteComparer.Instance))
                {
                    writer.WriteString(Encoding.Latin1.GetBytes(key));
                    WriteValue(ref writer, item);
                }

                writer.WriteEnd();
                break;
            default:
                throw new InvalidOperationException();
        }
    }

    internal sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

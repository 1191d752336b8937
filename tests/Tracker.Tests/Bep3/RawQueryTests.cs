using P2PRegistry.Tracker.Bep3;

namespace P2PRegistry.Tracker.Tests.Bep3;

public sealed class RawQueryTests
{
    [Fact]
    public void TryParse_PercentEncodedBinary_DecodesEveryByte()
    {
        // Every byte value, as a client that escapes everything would send it.
        var all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var query = "?x=" + string.Concat(all.Select(b => $"%{b:X2}"));

        Assert.True(RawQuery.TryParse(query, out var parsed, out _));
        Assert.True(parsed.TryGetBytes("x", out var bytes));
        Assert.Equal(all, bytes);
    }

    [Fact]
    public void TryParse_InfoHashWithLiteralSafeChars_DecodesMixedForm()
    {
        // 0x12 0x34 then 'a' '.' '-' '_' '~' '9' left literal, lowercase hex escapes too.
        Assert.True(RawQuery.TryParse("info_hash=%12%34a.-_~9%ff%00&port=6881", out var parsed, out _));
        Assert.True(parsed.TryGetBytes("info_hash", out var bytes));
        Assert.Equal(new byte[] { 0x12, 0x34, (byte)'a', (byte)'.', (byte)'-', (byte)'_', (byte)'~', (byte)'9', 0xFF, 0x00 }, bytes);
        Assert.Equal("6881", parsed.GetAscii("port"));
    }

    [Fact]
    public void TryParse_PlusSign_IsSpace()
    {
        Assert.True(RawQuery.TryParse("a=b+c", out var parsed, out _));
        Assert.Equal("b c", parsed.GetAscii("a"));
    }

    [Fact]
    public void TryParse_RepeatedName_FirstWins()
    {
        Assert.True(RawQuery.TryParse("a=1&a=2", out var parsed, out _));
        Assert.Equal("1", parsed.GetAscii("a"));
    }

    [Fact]
    public void TryParse_EmptyPartsAndNameWithoutValue_AreTolerated()
    {
        Assert.True(RawQuery.TryParse("&&a&b=&", out var parsed, out _));
        Assert.True(parsed.Contains("a"));
        Assert.True(parsed.TryGetBytes("b", out var b));
        Assert.Empty(b);
        Assert.False(parsed.Contains("c"));
    }

    [Theory]
    [InlineData("x=%1")]
    [InlineData("x=%")]
    [InlineData("x=%zz")]
    [InlineData("x=%1g")]
    [InlineData("x=é")]
    public void TryParse_MalformedEscape_Fails(string query)
    {
        Assert.False(RawQuery.TryParse(query, out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void TryParse_OverLongQuery_Fails()
    {
        Assert.False(RawQuery.TryParse("x=" + new string('a', RawQuery.MaxLength), out _, out _));
    }

    [Fact]
    public void GetAscii_BinaryValue_IsNull()
    {
        Assert.True(RawQuery.TryParse("x=%FF", out var parsed, out _));
        Assert.Null(parsed.GetAscii("x"));
    }
}

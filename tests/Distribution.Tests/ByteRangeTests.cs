using P2PRegistry.Distribution;

namespace P2PRegistry.Distribution.Tests;

public sealed class ByteRangeTests
{
    [Theory]
    [InlineData("bytes=500-1499", 500, 1499)]
    [InlineData("bytes=500-", 500, 2047)]
    [InlineData("bytes=-500", 1548, 2047)]
    [InlineData("bytes=2000-5000", 2000, 2047)]
    [InlineData("bytes=0-0", 0, 0)]
    [InlineData("bytes=2047-2047", 2047, 2047)]
    [InlineData("bytes=-5000", 0, 2047)]
    [InlineData(" BYTES=1-2 ", 1, 2)]
    public void TryParse_Satisfiable_IsPartial(string header, long start, long end)
    {
        Assert.Equal(ByteRangeStatus.Partial, ByteRange.TryParse(header, 2048, out var range));
        Assert.Equal(new ByteRange(start, end), range);
        Assert.Equal(end - start + 1, range.Length);
    }

    [Theory]
    [InlineData("bytes=500-0")]
    [InlineData("bytes=5000-10000")]
    [InlineData("bytes=2048-")]
    [InlineData("bytes=2048-2048")]
    [InlineData("bytes=-0")]
    public void TryParse_Unsatisfiable(string header)
    {
        Assert.Equal(ByteRangeStatus.Unsatisfiable, ByteRange.TryParse(header, 2048, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("items=0-1")]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=abc")]
    [InlineData("bytes=1-x")]
    [InlineData("bytes=-")]
    [InlineData("bytes=+1-2")]
    [InlineData("bytes=99999999999999999999-")]
    public void TryParse_NoUsableRange_IsWhole(string? header)
    {
        Assert.Equal(ByteRangeStatus.Whole, ByteRange.TryParse(header, 2048, out _));
    }

    [Fact]
    public void TryParse_EmptyBlob_AnyRangeUnsatisfiable()
    {
        Assert.Equal(ByteRangeStatus.Unsatisfiable, ByteRange.TryParse("bytes=0-", 0, out _));
        Assert.Equal(ByteRangeStatus.Unsatisfiable, ByteRange.TryParse("bytes=-1", 0, out _));
    }
}

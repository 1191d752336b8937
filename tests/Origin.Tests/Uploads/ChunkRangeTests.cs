using P2PRegistry.Origin.Registry;

namespace P2PRegistry.Origin.Tests.Uploads;

public sealed class ChunkRangeTests
{
    [Theory]
    [InlineData("0-1023", 0, 1023)]
    [InlineData("1024-2047", 1024, 2047)]
    [InlineData("bytes 0-9/10", 0, 9)]
    [InlineData("bytes=5-5", 5, 5)]
    public void TryParseChunkRange_Valid(string header, long start, long end)
    {
        Assert.True(RegistryHandler.TryParseChunkRange(header, out var s, out var e));
        Assert.Equal((start, end), (s, e));
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("-5")]
    [InlineData("9-5")]
    [InlineData("a-b")]
    [InlineData("1--2")]
    public void TryParseChunkRange_Invalid(string header) => Assert.False(RegistryHandler.TryParseChunkRange(header, out _, out _));
}

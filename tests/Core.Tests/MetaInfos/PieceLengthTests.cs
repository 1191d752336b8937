using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Core.Tests.MetaInfos;

public class PieceLengthTests
{
    [Theory]
    [InlineData(0L, 256 * 1024)]
    [InlineData(1L, 256 * 1024)]
    [InlineData(256L * 1024 * 1024, 256 * 1024)]
    [InlineData(256L * 1024 * 1024 + 1, 512 * 1024)]
    [InlineData(1024L * 1024 * 1024, 1024 * 1024)]
    [InlineData(3L * 1024 * 1024 * 1024, 4 * 1024 * 1024)]
    [InlineData(100L * 1024 * 1024 * 1024, 16 * 1024 * 1024)]
    public void For_BlobSize_GivesPowerOfTwoNearThousandPieces(long size, int expected)
    {
        Assert.Equal(expected, PieceLength.For(size));
    }
}

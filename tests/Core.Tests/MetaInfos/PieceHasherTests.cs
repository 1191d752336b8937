using System.Security.Cryptography;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Core.Tests.MetaInfos;

public class PieceHasherTests
{
    private static byte[] OneShot(ReadOnlySpan<byte> content, int pieceLength)
    {
        var hashes = new byte[MetaInfo.CountPieces(content.Length, pieceLength) * 20];
        for (int offset = 0, i = 0; offset < content.Length; offset += pieceLength, i++)
        {
            SHA1.HashData(content.Slice(offset, Math.Min(pieceLength, content.Length - offset)), hashes.AsSpan(i * 20, 20));
        }

        return hashes;
    }

    [Fact]
    public void Append_SplitAtEveryBoundary_MatchesOneShot()
    {
        const int pieceLength = 64;
        var content = new byte[64 * 3 + 17];
        new Random(7).NextBytes(content);
        var expected = OneShot(content, pieceLength);
        for (var split = 0; split <= content.Length; split++)
        {
            using var hasher = new PieceHasher(pieceLength);
            hasher.Append(content.AsSpan(0, split));
            hasher.Append(content.AsSpan(split));
            Assert.Equal(content.Length, hasher.Length);
            Assert.Equal(expected, hasher.Complete());
        }
    }

    [Fact]
    public void Append_RandomChunks_MatchesOneShot()
    {
        var random = new Random(11);
        for (var round = 0; round < 50; round++)
        {
            var pieceLength = 1 << random.Next(0, 12);
            var content = new byte[random.Next(0, 20_000)];
            random.NextBytes(content);
            using var hasher = new PieceHasher(pieceLength);
            var offset = 0;
            while (offset < content.Length)
            {
                var take = Math.Min(content.Length - offset, random.Next(0, 3 * pieceLength));
                hasher.Append(content.AsSpan(offset, take));
                offset += take;
            }

            Assert.Equal(OneShot(content, pieceLength), hasher.Complete());
        }
    }

    [Fact]
    public void Complete_ExactMultiple_HasNoEmptyTrailingPiece()
    {
        using var hasher = new PieceHasher(16);
        hasher.Append(new byte[32]);
        Assert.Equal(40, hasher.Complete().Length);
    }

    [Fact]
    public void Complete_Empty_HasNoPieces()
    {
        using var hasher = new PieceHasher(16);
        Assert.Empty(hasher.Complete());
    }

    [Fact]
    public void Constructor_NonPositive_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PieceHasher(0));
    }
}

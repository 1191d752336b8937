using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Core.Tests.MetaInfos;

public sealed class BlobHasherTests
{
    [Fact]
    public async Task InChunks_GivesTheDigestAndTheMetaInfoOfTheWholeBlob()
    {
        var content = new byte[3 * PieceLength.Min + 12345];
        new Random(3).NextBytes(content);
        var digest = Digest.Compute(content);
        using var stream = new MemoryStream(content);
        var expected = await MetaInfo.ComputeAsync(digest, stream, content.Length);

        using var hasher = new BlobHasher(PieceLength.For(content.Length));
        for (var offset = 0; offset < content.Length; offset += 70001)
        {
            hasher.Append(content.AsSpan(offset, Math.Min(70001, content.Length - offset)));
        }

        Assert.Equal(content.Length, hasher.Length);
        Assert.Equal(digest, hasher.ComputeDigest());
        Assert.Equal(expected.Encoded.ToArray(), hasher.CreateMetaInfo(digest)!.Encoded.ToArray());
    }

    [Fact]
    public void WithoutAPieceLength_HashesTheBlobOnly()
    {
        using var hasher = new BlobHasher(null);
        hasher.Append("blob"u8);
        Assert.Equal(Digest.Compute("blob"u8), hasher.ComputeDigest());
        Assert.Null(hasher.CreateMetaInfo(Digest.Compute("blob"u8)));
    }
}

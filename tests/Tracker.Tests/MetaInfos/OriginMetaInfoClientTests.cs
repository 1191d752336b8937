using P2PRegistry.Tracker.MetaInfos;

namespace P2PRegistry.Tracker.Tests.MetaInfos;

public sealed class OriginMetaInfoClientTests
{
    [Fact]
    public void Validate_MatchingBodyAndHeader_ReturnsMetaInfo()
    {
        var metaInfo = TestMetaInfos.Create();

        var validated = OriginMetaInfoClient.Validate(metaInfo.Digest, metaInfo.Encoded.ToArray(), metaInfo.InfoHash.ToHex().ToUpperInvariant());

        Assert.Equal(metaInfo.InfoHash, validated.InfoHash);
    }

    [Fact]
    public void Validate_MetaInfoOfAnotherDigest_IsInvalid()
    {
        var asked = TestMetaInfos.Create();
        var other = TestMetaInfos.Create();

        var ex = Assert.Throws<MetaInfoException>(() => OriginMetaInfoClient.Validate(asked.Digest, other.Encoded.ToArray(), null));

        Assert.Equal(MetaInfoFailure.Invalid, ex.Failure);
        Assert.Contains(other.Digest.Value, ex.Message);
    }

    [Fact]
    public void Validate_HeaderNotTheBodysInfoHash_IsInvalid()
    {
        var metaInfo = TestMetaInfos.Create();
        var other = TestMetaInfos.Create();

        var ex = Assert.Throws<MetaInfoException>(() => OriginMetaInfoClient.Validate(metaInfo.Digest, metaInfo.Encoded.ToArray(), other.InfoHash.ToHex()));

        Assert.Equal(MetaInfoFailure.Invalid, ex.Failure);
    }

    [Theory]
    [InlineData("not bencode")]
    [InlineData("d6:lengthi5ee")]
    [InlineData("")]
    public void Validate_Garbage_IsInvalid(string body)
    {
        var metaInfo = TestMetaInfos.Create();

        var ex = Assert.Throws<MetaInfoException>(() => OriginMetaInfoClient.Validate(metaInfo.Digest, System.Text.Encoding.ASCII.GetBytes(body), null));

        Assert.Equal(MetaInfoFailure.Invalid, ex.Failure);
    }
}

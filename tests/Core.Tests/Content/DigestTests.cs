using System.Security.Cryptography;
using System.Text;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Core.Tests.Content;

public class DigestTests
{
    // sha256 of the empty string: a value everyone can check with `sha256sum < /dev/null`.
    private const string EmptySha256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void Parse_LowercaseSha256_RoundTrips()
    {
        var digest = Digest.Parse(EmptySha256);
        Assert.Equal(EmptySha256, digest.Value);
        Assert.Equal(EmptySha256, digest.ToString());
        Assert.Equal(EmptySha256[7..], digest.Hex);
        Assert.Equal("sha256", digest.Algorithm);
        Assert.False(digest.IsDefault);
    }

    [Theory]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")] // uppercase hex
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852B855")] // one uppercase
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")] // 63
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550")] // 65
    [InlineData("sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // non-hex letter
    [InlineData("sha256:")] // empty encoded
    [InlineData(":e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // empty algorithm
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // no colon
    [InlineData("")]
    [InlineData("SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // algorithm uppercase
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855:")] // second colon
    [InlineData("sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // space
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n")] // newline
    [InlineData("sha+:abc")] // separator without a component after it
    [InlineData("+sha:abc")] // separator first
    [InlineData("sha..256:abc")] // two separators
    [InlineData("sha256:abc/def")] // '/' is not in the encoded alphabet
    public void Validate_Malformed_IsMalformed(string text)
    {
        Assert.Equal(DigestParseStatus.Malformed, Digest.Validate(text, out var digest));
        Assert.True(digest.IsDefault);
        Assert.False(Digest.TryParse(text, out _));
        var ex = Assert.Throws<FormatException>(() => Digest.Parse(text));
        Assert.Contains("Malformed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Null_IsMalformed()
    {
        Assert.Equal(DigestParseStatus.Malformed, Digest.Validate(null, out _));
        Assert.False(Digest.TryParse(null, out _));
    }

    [Fact]
    public void Validate_LongerThan256_IsMalformed()
    {
        var text = "sha256:" + new string('a', 250);
        Assert.Equal(DigestParseStatus.Malformed, Digest.Validate(text, out _));
    }

    [Theory]
    [InlineData("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")]
    [InlineData("sha384:abc")]
    [InlineData("blake3:abc")]
    [InlineData("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8")]
    [InlineData("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564")]
    [InlineData("a.b_c-d:X=_-")]
    public void Validate_OtherAlgorithm_IsUnsupportedAlgorithm(string text)
    {
        Assert.Equal(DigestParseStatus.UnsupportedAlgorithm, Digest.Validate(text, out var digest));
        Assert.True(digest.IsDefault);
        var ex = Assert.Throws<FormatException>(() => Digest.Parse(text));
        Assert.Contains("Unsupported", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_MatchesSha256()
    {
        var content = Encoding.UTF8.GetBytes("hello, swarm");
        var expected = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        Assert.Equal(expected, Digest.Compute(content).Value);
        Assert.Equal(EmptySha256, Digest.Compute([]).Value);
    }

    [Fact]
    public void FromSha256_BuildsDigestAndCopyHashToReturnsBytes()
    {
        var hash = SHA256.HashData("abc"u8);
        var digest = Digest.FromSha256(hash);
        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", digest.Value);
        var copy = new byte[32];
        digest.CopyHashTo(copy);
        Assert.Equal(hash, copy);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(31)]
    [InlineData(33)]
    public void FromSha256_WrongLength_Throws(int length)
    {
        Assert.Throws<ArgumentException>(() => Digest.FromSha256(new byte[length]));
    }

    [Fact]
    public void Equality_IsByValue()
    {
        var a = Digest.Parse(EmptySha256);
        var b = Digest.Parse(new string(EmptySha256.ToCharArray())); // a different string instance
        var c = Digest.Compute("x"u8);
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != c);
        Assert.False(a.Equals((object)EmptySha256));
        Assert.NotEqual(default, a);
        Assert.Equal(default(Digest), default(Digest));
        Assert.Equal(2, new HashSet<Digest> { a, b, c }.Count);
    }

    [Fact]
    public void Default_HasNoValue()
    {
        var digest = default(Digest);
        Assert.True(digest.IsDefault);
        Assert.Equal("", digest.ToString());
        Assert.Equal(0, digest.GetHashCode());
        Assert.Throws<InvalidOperationException>(() => digest.Value);
    }
}

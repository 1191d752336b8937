using P2PRegistry.Distribution;

namespace P2PRegistry.Distribution.Tests;

public sealed class RepositoryNameTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("library/busybox")]
    [InlineData("my.org/team_a/img__b/c-d---e")]
    [InlineData("0/1/2")]
    public void IsValid_GrammarNames_True(string name) => Assert.True(RepositoryName.IsValid(name));

    [Theory]
    [InlineData("")]
    [InlineData("A")]
    [InlineData("a/B")]
    [InlineData("..")]
    [InlineData("a/..")]
    [InlineData("a/../b")]
    [InlineData(".a")]
    [InlineData("a.")]
    [InlineData("a..b")]
    [InlineData("a___b")]
    [InlineData("_a")]
    [InlineData("a//b")]
    [InlineData("/a")]
    [InlineData("a/")]
    [InlineData("a b")]
    [InlineData("a%2eb")]
    [InlineData("a:b")]
    public void IsValid_BadNames_False(string name) => Assert.False(RepositoryName.IsValid(name));

    [Fact]
    public void IsValid_Length_LimitIs255()
    {
        Assert.True(RepositoryName.IsValid(new string('a', 255)));
        Assert.False(RepositoryName.IsValid(new string('a', 256)));
    }

    [Theory]
    [InlineData("v1", true)]
    [InlineData("_x", true)]
    [InlineData("Latest.1-rc_2", true)]
    [InlineData(".x", false)]
    [InlineData("-x", false)]
    [InlineData("a:b", false)]
    [InlineData("", false)]
    public void IsValidTag_Grammar(string tag, bool valid) => Assert.Equal(valid, RepositoryName.IsValidTag(tag));

    [Fact]
    public void IsValidTag_Length_LimitIs128()
    {
        Assert.True(RepositoryName.IsValidTag(new string('a', 128)));
        Assert.False(RepositoryName.IsValidTag(new string('a', 129)));
    }
}

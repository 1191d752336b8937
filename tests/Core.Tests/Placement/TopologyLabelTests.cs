using P2PRegistry.Core.Placement;

namespace P2PRegistry.Core.Tests.Placement;

public sealed class TopologyLabelTests
{
    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("a")]
    [InlineData("eu-west-1a")]
    [InlineData("rack_07.row-2")]
    [InlineData("Z9")]
    public void IsValid_KubernetesLabelValue_True(string? value)
    {
        Assert.True(TopologyLabel.IsValid(value));
        Assert.Null(TopologyLabel.Problem(value));
    }

    [Fact]
    public void IsValid_SixtyThreeCharacters_TrueAndSixtyFourFalse()
    {
        Assert.True(TopologyLabel.IsValid(new string('a', 63)));
        var problem = TopologyLabel.Problem(new string('a', 64));
        Assert.Contains("64 characters", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zone a", "' '")]
    [InlineData("zone/a", "'/'")]
    [InlineData("zöne", "'ö'")]
    [InlineData("zone\n", "U+000A")]
    [InlineData("-zone", "begin and end")]
    [InlineData("zone.", "begin and end")]
    [InlineData("_", "begin and end")]
    public void Problem_OutsideTheCharset_SaysWhy(string value, string expected)
    {
        Assert.False(TopologyLabel.IsValid(value));
        Assert.Contains(expected, TopologyLabel.Problem(value), StringComparison.Ordinal);
    }
}

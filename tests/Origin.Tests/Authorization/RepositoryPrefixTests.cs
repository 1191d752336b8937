using P2PRegistry.Origin.Authorization;

namespace P2PRegistry.Origin.Tests.Authorization;

public sealed class RepositoryPrefixTests
{
    [Theory]
    [InlineData("team/", "team/app", true)]
    [InlineData("team", "team/app", true)]
    [InlineData("team/", "team", true)]
    [InlineData("team/", "team/sub/app", true)]
    [InlineData("team/", "teamster/app", false)]
    [InlineData("team", "teamster", false)]
    [InlineData("team/", "other/team/app", false)]
    [InlineData("team/app", "team/app", true)]
    [InlineData("team/app", "team/apple", false)]
    [InlineData("team/app", "team/app/sub", true)]
    [InlineData("*", "anything/at/all", true)]
    public void Covers_MatchesAtPathComponentBoundaries(string prefix, string repository, bool expected)
    {
        var parsed = RepositoryPrefix.TryParse(prefix);
        Assert.NotNull(parsed);
        Assert.Equal(expected, parsed.Value.Covers(repository));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("Team/")]
    [InlineData("team//")]
    [InlineData("te*")]
    [InlineData("../team")]
    [InlineData(null)]
    public void TryParse_NotARepositoryName_IsNull(string? prefix) => Assert.Null(RepositoryPrefix.TryParse(prefix));
}

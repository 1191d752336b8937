using P2PRegistry.Origin.Upstream;

namespace P2PRegistry.Origin.Tests.Upstream;

public class AuthChallengeTests
{
    [Fact]
    public void ParseAll_DockerHubBearer_ReadsRealmServiceScope()
    {
        var challenges = AuthChallenge.ParseAll(["Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\""]);

        var challenge = Assert.Single(challenges);
        Assert.True(challenge.IsBearer);
        Assert.Equal("https://auth.docker.io/token", challenge["realm"]);
        Assert.Equal("registry.docker.io", challenge["SERVICE"]);
        Assert.Equal("repository:library/alpine:pull", challenge["scope"]);
    }

    [Fact]
    public void ParseAll_CommasAndEscapesInQuotedValues_AreKept()
    {
        var challenges = AuthChallenge.ParseAll(["Bearer realm=\"https://a.example/t\", scope=\"repository:x/y:pull,push\", error=\"say \\\"hi\\\"\""]);

        var challenge = Assert.Single(challenges);
        Assert.Equal("repository:x/y:pull,push", challenge["scope"]);
        Assert.Equal("say \"hi\"", challenge["error"]);
    }

    [Fact]
    public void ParseAll_SeveralChallengesInOneAndInManyHeaders_ReturnsEach()
    {
        var challenges = AuthChallenge.ParseAll([
            "Basic realm=\"registry\", Bearer realm=\"https://t.example/token\",service=svc",
            "Negotiate",
        ]);

        Assert.Equal(["Basic", "Bearer", "Negotiate"], challenges.Select(c => c.Scheme));
        Assert.Equal("registry", challenges[0]["realm"]);
        Assert.Equal("svc", challenges[1]["service"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData(",,,")]
    [InlineData("=\"\"")]
    [InlineData("Bearer realm=\"unterminated")]
    [InlineData("Bearer ====== ,, \"\" \u0000 realm")]
    public void ParseAll_Garbage_DoesNotThrow(string header)
    {
        var challenges = AuthChallenge.ParseAll([header]);
        Assert.NotNull(challenges);
    }

    [Fact]
    public void ParseTokenResponse_ReadsTokenOrAccessTokenAndDefaultsExpiry()
    {
        Assert.Equal(("abc", TimeSpan.FromSeconds(300)), UpstreamClient.ParseTokenResponse("{\"token\":\"abc\",\"expires_in\":300}"u8));
        Assert.Equal(("xyz", TimeSpan.FromSeconds(60)), UpstreamClient.ParseTokenResponse("{\"access_token\":\"xyz\"}"u8));
        Assert.Null(UpstreamClient.ParseTokenResponse("{\"nothing\":1}"u8));
        Assert.Null(UpstreamClient.ParseTokenResponse("not json"u8));
    }
}

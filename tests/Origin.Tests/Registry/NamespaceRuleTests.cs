using P2PRegistry.Origin.Registry;

namespace P2PRegistry.Origin.Tests.Registry;

public sealed class NamespaceRuleTests
{
    private static readonly string[] Upstreams = ["docker.io", "registry.example.com:5000"];

    [Theory]
    [InlineData(null, true, null)]
    [InlineData("", true, null)]
    [InlineData("docker.io", false, "docker.io")]
    [InlineData("Registry.Example.COM:5000", false, "registry.example.com:5000")]
    [InlineData("origin.lab:5000", true, null)]
    [InlineData("ORIGIN.lab:5000", true, null)]
    [InlineData("origin.lab", false, null)]
    [InlineData("registry.example.com", false, null)]
    [InlineData("127.0.0.1:5000", false, null)]
    public void ConfiguredNames_LocalOnlyForThem_UpstreamOnlyForUpstreams(string? ns, bool local, string? upstream)
    {
        var rule = new NamespaceRule(["origin.lab:5000"], Upstreams, defaultUpstream: null);
        Assert.Equal(new NamespaceTarget(local, upstream), rule.Resolve(ns, host: "127.0.0.1:5000"));
    }

    [Theory]
    [InlineData("127.0.0.1:5000", "127.0.0.1:5000", true)]
    [InlineData("127.0.0.1:5000", "127.0.0.1:5001", false)]
    [InlineData("127.0.0.1", "127.0.0.1:5000", false)]
    [InlineData("127.0.0.1:5000", null, false)]
    public void NoConfiguredNames_TheHostHeaderIsTheOriginsName(string ns, string? host, bool local)
    {
        var rule = new NamespaceRule([], Upstreams, defaultUpstream: null);
        var target = rule.Resolve(ns, host);
        Assert.Equal(local, target.Local);
        Assert.Null(target.Upstream);
        Assert.Equal(!local, target.IsNowhere);
    }

    [Fact]
    public void UpstreamWins_EvenWhenTheHostHeaderCarriesItsName()
    {
        var rule = new NamespaceRule([], Upstreams, defaultUpstream: null);
        Assert.Equal(new NamespaceTarget(false, "docker.io"), rule.Resolve("docker.io", host: "docker.io"));
    }

    [Fact]
    public void NoNs_LocalThenTheDefaultUpstream()
    {
        var rule = new NamespaceRule([], Upstreams, defaultUpstream: "Docker.io");
        Assert.Equal(new NamespaceTarget(true, "docker.io"), rule.Resolve(null, "127.0.0.1:5000"));
    }
}

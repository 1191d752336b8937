using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Tests;

public sealed class RunIdTests
{
    [Fact]
    public void New_NamesCarryPrefixAndId()
    {
        var run = RunId.New();
        Assert.Matches("^[0-9a-f]{8}$", run.Id);
        Assert.Equal("p2ph-" + run.Id, run.RunPrefix);
        Assert.Equal(run.RunPrefix + "-hub", run.HubNamespace);
        Assert.Equal(run.RunPrefix + "-seed", run.SeedNamespace);
        Assert.Equal(run.RunPrefix + "-c12", run.ClientNamespace(12));
        Assert.Throws<ArgumentOutOfRangeException>(() => run.ClientNamespace(0));
    }

    [Fact]
    public void New_TwoRuns_Differ()
    {
        var ids = Enumerable.Range(0, 50).Select(_ => RunId.New().Id).ToHashSet();
        Assert.Equal(50, ids.Count);
    }

    [Fact]
    public void IdOf_OnlyHarnessNames()
    {
        var run = RunId.Parse("0a1b2c3d");
        Assert.Equal("0a1b2c3d", RunId.IdOf(run.HubNamespace));
        Assert.Equal("0a1b2c3d", RunId.IdOf(run.ClientNamespace(3)));
        Assert.Equal("0a1b2c3d", RunId.IdOf("p2ph-0a1b2c3d"));
        Assert.Null(RunId.IdOf("hub"));
        Assert.Null(RunId.IdOf("p2ph-xyz"));
        Assert.Null(RunId.IdOf("other-p2ph-0a1b2c3d-hub"));
        Assert.Throws<FormatException>(() => RunId.Parse("0A1B2C3D"));
    }
}

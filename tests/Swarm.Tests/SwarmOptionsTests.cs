namespace P2PRegistry.Swarm.Tests;

public sealed class SwarmOptionsTests
{
    [Fact]
    public void Validate_Defaults_HaveNoProblem()
    {
        Assert.Empty(new SwarmOptions().Validate());
    }

    [Fact]
    public void Validate_NegativeHotPieceBytes_NamesTheKey()
    {
        var problem = Assert.Single(new SwarmOptions { HotPieceBytes = -1 }.Validate());
        Assert.Contains("Swarm:HotPieceBytes", problem, StringComparison.Ordinal);
    }
}

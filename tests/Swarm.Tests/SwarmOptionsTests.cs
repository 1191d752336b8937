namespace P2PRegistry.Swarm.Tests;

public sealed class SwarmOptionsTests
{
    [Fact]
    public void Validate_Defaults_HaveNoProblem()
    {
        Assert.Empty(new SwarmOptions().Validate());
    }

    [Fact]
    public void RequestPipelineFloor_Is256KiB_SixteenBlocks()
    {
        // Measured at N = 12 (docs/benchmarks.md): 1 MiB per peer left a piece a streaming reader needed next about
        // a second behind the requests queued before it.
        var options = new SwarmOptions();
        Assert.Equal(256 * 1024, options.MinRequestQueueBytes);
        Assert.Equal(16, options.MinRequestQueueBytes / options.BlockSize);
    }

    [Fact]
    public void Validate_ZoneThatIsNoTopologyLabel_NamesTheKey()
    {
        Assert.Empty(new SwarmOptions { Zone = "eu-west-1a" }.Validate());
        var problem = Assert.Single(new SwarmOptions { Zone = "zone a" }.Validate());
        Assert.Contains("Swarm:Zone", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CrossingWaitOutOfRange_NamesTheKey()
    {
        Assert.Empty(new SwarmOptions { CrossingWait = TimeSpan.Zero }.Validate());
        foreach (var wait in new[] { TimeSpan.FromMilliseconds(-1), TimeSpan.FromMinutes(2) })
        {
            var problem = Assert.Single(new SwarmOptions { CrossingWait = wait }.Validate());
            Assert.Contains("Swarm:CrossingWait", problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_NegativeHotPieceBytes_NamesTheKey()
    {
        var problem = Assert.Single(new SwarmOptions { HotPieceBytes = -1 }.Validate());
        Assert.Contains("Swarm:HotPieceBytes", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SuperSeedForwardWindow_NegativePiecesOrNoWait_NamesTheKey()
    {
        var pieces = Assert.Single(new SwarmOptions { SuperSeedForwardPieces = -1 }.Validate());
        Assert.Contains("Swarm:SuperSeedForwardPieces", pieces, StringComparison.Ordinal);
        var wait = Assert.Single(new SwarmOptions { SuperSeedForwardWait = TimeSpan.Zero }.Validate());
        Assert.Contains("Swarm:SuperSeedForwardWait", wait, StringComparison.Ordinal);
        Assert.Empty(new SwarmOptions { SuperSeedForwardPieces = 0 }.Validate()); // off
    }

    [Fact]
    public void Validate_PeerPortLimitsBelowOne_NameTheKey()
    {
        Assert.Contains("Swarm:MaxConnectionsPerAddress", Assert.Single(new SwarmOptions { MaxConnectionsPerAddress = 0 }.Validate()), StringComparison.Ordinal);
        Assert.Contains("Swarm:MaxPendingConnectionsPerAddress", Assert.Single(new SwarmOptions { MaxPendingConnectionsPerAddress = 0 }.Validate()), StringComparison.Ordinal);
        Assert.Contains("Swarm:InboundHandshakeTimeout", Assert.Single(new SwarmOptions { InboundHandshakeTimeout = TimeSpan.Zero }.Validate()), StringComparison.Ordinal);
        Assert.Contains(new SwarmOptions { MaxPendingConnections = 0 }.Validate(), p => p.Contains("Swarm:MaxPendingConnections must", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_PendingPerAddressAboveTotal_NamesTheKey()
    {
        var problem = Assert.Single(new SwarmOptions { MaxPendingConnections = 8, MaxPendingConnectionsPerAddress = 9 }.Validate());
        Assert.Contains("Swarm:MaxPendingConnectionsPerAddress", problem, StringComparison.Ordinal);
        Assert.Empty(new SwarmOptions { MaxPendingConnections = 8, MaxPendingConnectionsPerAddress = 8 }.Validate());
    }
}

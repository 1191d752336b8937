using P2PRegistry.Harness.Cli;
using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Tests;

public sealed class ZoneArgumentsTests
{
    [Fact]
    public void Parse_NoZoneOptions_OneZoneLocalityOn()
    {
        var o = HarnessArguments.Parse([]);

        Assert.Equal(1, o.Zones);
        Assert.Null(o.InterZoneMbitSetting);
        Assert.True(o.Locality);
    }

    [Fact]
    public void Parse_TwoZones_BothSpellings()
    {
        var spaced = HarnessArguments.Parse(["--agents", "8", "--zones", "2", "--inter-zone-mbit", "40", "--locality", "off"]);
        var inline = HarnessArguments.Parse(["--agents=8", "--zones=2", "--inter-zone-mbit=40", "--locality=off"]);

        foreach (var o in new[] { spaced, inline })
        {
            Assert.Equal(2, o.Zones);
            Assert.Equal(40, o.InterZoneMbit);
            Assert.False(o.Locality);
        }
    }

    [Fact]
    public void Parse_TwoZonesWithoutInterZoneRate_TheHostLinkRate()
    {
        var o = HarnessArguments.Parse(["--zones", "2", "--rate-mbit", "50"]);

        Assert.Equal(50, o.InterZoneMbit);
    }

    [Theory]
    [InlineData("--zones 3", "--zones must be between 1 and 2, got 3.")]
    [InlineData("--zones 0", "--zones must be between 1 and 2, got 0.")]
    [InlineData("--inter-zone-mbit 10", "--inter-zone-mbit needs --zones 2.")]
    [InlineData("--zones 2 --inter-zone-mbit 0", "--inter-zone-mbit must be between 1 and 100000, got 0.")]
    [InlineData("--zones 2 --loopback", "--zones 2 needs namespaces (a link between zones to shape and count), not --loopback.")]
    [InlineData("--zones 2 --agents 1", "--zones 2 needs at least 2 clients (one per zone), got 1.")]
    [InlineData("--zones 2 --scale 1,4", "--zones 2 needs at least 2 clients (one per zone), got 1.")]
    [InlineData("--locality maybe", "--locality must be on or off, got 'maybe'.")]
    public void Parse_InvalidZoneOptions_ClearError(string line, string message)
    {
        var e = Assert.Throws<HarnessArgumentException>(() => HarnessArguments.Parse(line.Split(' ')));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void ZoneOfClient_FirstNClients_SplitEvenly()
    {
        Assert.Equal(["a", "b", "a", "b", "a", "b", "a", "b"], Enumerable.Range(1, 8).Select(NamespaceTestbed.ZoneOfClient));
        Assert.Equal(["xa", "xb"], new[] { NamespaceTestbed.ZoneA, NamespaceTestbed.ZoneB }.Select(NamespaceTestbed.TrunkEnd));
    }
}

using P2PRegistry.Harness.Lab;

namespace P2PRegistry.Harness.Tests;

public sealed class NamespaceTestbedTests
{
    [Fact]
    public void NeighbourBatch_FortyEightClients_PermanentEntryForEveryOtherHost()
    {
        var seed = new LabHost("seed", $"{NamespaceTestbed.Subnet}.1", "ns-seed");
        List<LabHost> hosts = [seed, .. Enumerable.Range(1, 48).Select(k => new LabHost($"c{k}", NamespaceTestbed.ClientAddress(k), $"ns-c{k}"))];
        var self = hosts[36];

        var lines = NamespaceTestbed.NeighbourBatch(hosts, self).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(48, lines.Length);
        Assert.DoesNotContain(lines, line => line.Contains($" {self.Address} ", StringComparison.Ordinal));
        foreach (var host in hosts.Where(h => h != self))
        {
            Assert.Contains($"neigh replace {host.Address} lladdr {NamespaceTestbed.MacOf(host.Address)} dev eth0 nud permanent", lines);
        }
    }

    [Fact]
    public void MacOf_SeedAndEveryClient_DistinctLocallyAdministeredUnicast()
    {
        List<string> addresses = [$"{NamespaceTestbed.Subnet}.1", .. Enumerable.Range(1, Cli.HarnessArguments.MaxAgents).Select(NamespaceTestbed.ClientAddress)];

        var macs = addresses.Select(NamespaceTestbed.MacOf).ToList();

        Assert.Equal(macs.Count, macs.Distinct().Count());
        Assert.All(macs, mac => Assert.Matches("^02:77:00:00:00:[0-9a-f]{2}$", mac));
        Assert.Equal("02:77:00:00:00:3a", NamespaceTestbed.MacOf(NamespaceTestbed.ClientAddress(48)));
    }
}

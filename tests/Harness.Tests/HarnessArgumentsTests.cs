using P2PRegistry.Harness.Cli;
using P2PRegistry.Harness.Systems;

namespace P2PRegistry.Harness.Tests;

public sealed class HarnessArgumentsTests
{
    [Fact]
    public void Parse_NoArguments_Defaults()
    {
        var o = HarnessArguments.Parse([]);
        Assert.Equal(4, o.Agents);
        Assert.Equal(256, o.SizeMib);
        Assert.Equal(100, o.RateMbit);
        Assert.Equal(["registry", "aria2c"], o.Systems);
        Assert.False(o.Loopback);
        Assert.Equal([4], o.ClientCounts);
        Assert.Equal(256L << 20, o.BlobBytes);
    }

    [Theory]
    [InlineData("off", false, false, false)]
    [InlineData("control", true, false, false)]
    [InlineData("peer", false, true, false)]
    [InlineData("all", true, true, true)]
    public void Parse_Tls_BothSpellings(string mode, bool control, bool peer, bool agentApi)
    {
        foreach (var args in new[] { new[] { "--tls", mode }, [$"--tls={mode}"] })
        {
            var o = HarnessArguments.Parse(args);
            Assert.Equal(mode, o.Tls);
            Assert.Equal(control, o.ControlTls);
            Assert.Equal(peer, o.PeerTls);
            Assert.Equal(agentApi, o.AgentApiTls);
        }

        Assert.Equal("off", HarnessArguments.Parse([]).Tls);
        Assert.Contains("--tls must be one of", Assert.Throws<HarnessArgumentException>(() => HarnessArguments.Parse(["--tls", "yes"])).Message);
    }

    [Fact]
    public void Parse_ColdAgentsWithoutTheP2PRegistrySystem_Refused() =>
        Assert.Equal(
            "--cold-agents applies to the p2pregistry system only; add it to --systems or drop the flag.",
            Assert.Throws<HarnessArgumentException>(() => HarnessArguments.Parse(["--cold-agents", "--systems", "registry,aria2c"])).Message);

    [Fact]
    public void Parse_ColdAgents_IsAFlag_OffByDefault()
    {
        Assert.False(HarnessArguments.Parse([]).ColdAgents);
        Assert.True(HarnessArguments.Parse(["--cold-agents", "--systems", "p2pregistry"]).ColdAgents);
        Assert.Equal("--cold-agents takes no value.", Assert.Throws<HarnessArgumentException>(() => HarnessArguments.Parse(["--cold-agents=yes"])).Message);
        Assert.Contains("--cold-agents", HarnessArguments.Usage, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Bin_TheFolderOfTheThreeBuilds_ElseAClearError()
    {
        var bin = Directory.CreateTempSubdirectory("harness-bin-");
        try
        {
            foreach (var component in new[] { "Origin", "Tracker" })
            {
                Directory.CreateDirectory(Path.Combine(bin.FullName, component));
                File.WriteAllBytes(Path.Combine(bin.FullName, component, $"P2PRegistry.{component}.dll"), []);
            }

            Assert.Equal($"--bin {bin.FullName}: no Agent/P2PRegistry.Agent(.dll) under {bin.FullName}.",
                Assert.Throws<HarnessArgumentException>(() => HarnessArguments.Parse(["--bin", bin.FullName])).Message);

            Directory.CreateDirectory(Path.Combine(bin.FullName, "Agent"));
            File.WriteAllBytes(Path.Combine(bin.FullName, "Agent", "P2PRegistry.Agent.dll"), []);
            var options = HarnessArguments.Parse(["--bin", bin.FullName]);
            Assert.Equal(bin.FullName, options.ComponentDirectory);
            Assert.Null(HarnessArguments.Parse([]).ComponentDirectory);
            Assert.Contains($"components from {bin.FullName}", HarnessRunner.Create("p2pregistry", options).Description, StringComparison.Ordinal);
            Assert.Contains("--bin DIR", HarnessArguments.Usage, StringComparison.Ordinal);
        }
        finally
        {
            bin.Delete(recursive: true);
        }
    }

    /// <summary>
    /// deploy/docker/publish.sh's layout: lower-case folders, the agent a native executable (Native AOT, no .dll); the
    /// origin and the tracker assemblies run with dotnet, the agent executable by itself.
    /// </summary>
    [Fact]
    public void Parse_Bin_PublishLayoutWithANativeAgent_RunsTheExecutable()
    {
        var bin = Directory.CreateTempSubdirectory("harness-bin-");
        try
        {
            foreach (var component in new[] { "Origin", "Tracker" })
            {
                Directory.CreateDirectory(Path.Combine(bin.FullName, component.ToLowerInvariant()));
                File.WriteAllBytes(Path.Combine(bin.FullName, component.ToLowerInvariant(), $"P2PRegistry.{component}.dll"), []);
            }

            Directory.CreateDirectory(Path.Combine(bin.FullName, "agent"));
            var agent = Path.Combine(bin.FullName, "agent", "P2PRegistry.Agent");
            File.WriteAllBytes(agent, []);

            Assert.Equal(bin.FullName, HarnessArguments.Parse(["--bin", bin.FullName]).ComponentDirectory);
            Assert.Equal(agent, P2PRegistrySystem.PublishedComponent(bin.FullName, "Agent", "P2PRegistry.Agent"));
            Assert.Equal([agent], P2PRegistrySystem.Launch(agent));
            var origin = P2PRegistrySystem.PublishedComponent(bin.FullName, "Origin", "P2PRegistry.Origin");
            Assert.Equal(Path.Combine(bin.FullName, "origin", "P2PRegistry.Origin.dll"), origin);
            Assert.Equal(["dotnet", origin!], P2PRegistrySystem.Launch(origin!));
        }
        finally
        {
            bin.Delete(recursive: true);
        }
    }

    [Fact]
    public void Create_ColdAgents_TheSystemSaysItsAgentsAreCold()
    {
        var cold = HarnessRunner.Create("p2pregistry", HarnessArguments.Parse(["--cold-agents", "--systems", "p2pregistry"]));
        var warm = HarnessRunner.Create("p2pregistry", HarnessArguments.Parse([]));

        Assert.Contains("measured pull is its first request", cold.Description, StringComparison.Ordinal);
        Assert.Contains("warmed by one small pull", warm.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AllOptions_BothSpellings()
    {
        var o = HarnessArguments.Parse(["--agents", "3", "--size-mib=8", "--rate-mbit", "50", "--systems", "aria2c, Registry,p2pregistry",
            "--out", "x/y", "--loopback", "--scale", "8,2,4", "--timeout-seconds", "30"]);
        Assert.Equal(3, o.Agents);
        Assert.Equal(8, o.SizeMib);
        Assert.Equal(50, o.RateMbit);
        Assert.Equal(["aria2c", "registry", "p2pregistry"], o.Systems);
        Assert.Equal("x/y", o.Output);
        Assert.True(o.Loopback);
        Assert.Equal([2, 4, 8], o.ClientCounts);
        Assert.Equal(30, o.TimeoutSeconds);
    }

    [Theory]
    [InlineData("--agents 0", "--agents must be between 1 and 64, got 0.")]
    [InlineData("--agents 65", "--agents must be between 1 and 64, got 65.")]
    [InlineData("--agents four", "--agents must be a whole number, got 'four'.")]
    [InlineData("--size-mib -1", "--size-mib must be a whole number, got '-1'.")]
    [InlineData("--rate-mbit", "--rate-mbit needs a value.")]
    [InlineData("--systems registry,bittorrent", "--systems: unknown system 'bittorrent'; known: registry, aria2c, p2pregistry.")]
    [InlineData("--systems registry,registry", "--systems: 'registry' is listed twice.")]
    [InlineData("--systems ,", "--systems needs at least one system.")]
    [InlineData("--scale 2,x", "--scale must be a whole number, got 'x'.")]
    [InlineData("--scale 2,2", "--scale: 2 is listed twice.")]
    [InlineData("--loopback=yes", "--loopback takes no value.")]
    [InlineData("--speed 3", "Unknown option --speed. See --help.")]
    [InlineData("agents", "Unexpected argument 'agents'; options start with --. See --help.")]
    public void Parse_Invalid_ClearError(string line, string message)
    {
        var e = Assert.Throws<HarnessArgumentException>(() => HarnessArguments.Parse(line.Split(' ')));
        Assert.Equal(message, e.Message);
    }
}

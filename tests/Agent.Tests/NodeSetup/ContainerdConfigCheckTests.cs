using P2PRegistry.Agent.NodeSetup;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Agent.Tests.NodeSetup;

public sealed class ContainerdConfigCheckTests : IDisposable
{
    private const string Hosts = "/etc/containerd/certs.d";
    private readonly TempDirectory _temp = new("ctdcfg");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n")]
    [InlineData("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d:/etc/docker/certs.d\"\n")]
    [InlineData("version = 3\n[plugins.\"io.containerd.cri.v1.images\".registry]\n  config_path = \"/etc/containerd/certs.d/\"\n")]
    [InlineData("[plugins.cri.registry]\n  config_path = \"/etc/containerd/certs.d\"\n")]
    public void Check_ConfigPathNamesTheHostsDirectory_IsConfigured(string toml) =>
        Assert.Equal(ContainerdConfigCheck.Outcome.Configured, Check(toml).Outcome);

    [Fact]
    public void Check_Version3WithTheVersion2Table_IsNotConfigured_AndShowsTheVersion3Lines()
    {
        var result = Check("version = 3\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n");

        Assert.Equal(ContainerdConfigCheck.Outcome.NotConfigured, result.Outcome);
        Assert.Contains($"[plugins.\"io.containerd.cri.v1.images\".registry]{Environment.NewLine}  config_path = \"{Hosts}\"", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_MirrorsWithoutConfigPath_SaysToRemoveThem()
    {
        var result = Check("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n  endpoint = [\"https://registry-1.docker.io\"]\n");

        Assert.Equal(ContainerdConfigCheck.Outcome.NotConfigured, result.Outcome);
        Assert.Contains("mirrors", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_OtherFolder_SaysWhichAndHowToAgree()
    {
        var result = Check("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/docker/certs.d\"\n");

        Assert.Equal(ContainerdConfigCheck.Outcome.OtherPath, result.Outcome);
        Assert.Contains("--hosts-dir /etc/docker/certs.d", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_CriDisabled_SaysSo()
    {
        var result = Check("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n");

        Assert.Equal(ContainerdConfigCheck.Outcome.NotConfigured, result.Outcome);
        Assert.Contains("disables the CRI plugin", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NotToml_IsUnreadable()
    {
        Assert.Equal(ContainerdConfigCheck.Outcome.Unreadable, Check("version = = 2\n[plugins\n").Outcome);
    }

    [Fact]
    public void Check_NoFile_ShowsBothVersions()
    {
        var result = ContainerdConfigCheck.Check(_temp.Combine("none.toml"), Hosts);

        Assert.Equal(ContainerdConfigCheck.Outcome.NotConfigured, result.Outcome);
        Assert.Contains("io.containerd.grpc.v1.cri", result.Message, StringComparison.Ordinal);
        Assert.Contains("io.containerd.cri.v1.images", result.Message, StringComparison.Ordinal);
    }

    private ContainerdConfigCheck.Result Check(string toml)
    {
        var file = _temp.Combine("config.toml");
        File.WriteAllText(file, toml);
        return ContainerdConfigCheck.Check(file, Hosts);
    }
}

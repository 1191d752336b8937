using P2PRegistry.Agent.NodeSetup;
using P2PRegistry.Testing.FileSystem;
using P2PRegistry.Testing.Processes;

namespace P2PRegistry.Agent.Tests.NodeSetup;

/// <summary>The node-setup sub-command's file logic: install, idempotence, restore byte for byte, and its refusals.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NodeSetupCommandTests : IDisposable
{
    private static readonly byte[] OriginalDockerHub = "server = \"https://registry-1.docker.io\"\n# an operator's file, no newline at the end\t\r\n[host.\"https://mirror.corp\"]"u8.ToArray();
    private readonly TempDirectory _temp = new("nodesetup");

    private string HostsDir => _temp.Combine("certs.d");

    private string NoConfig => _temp.Combine("missing-config.toml");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Install_WritesAgentMirrorWithServerFallback_ForEachRegistryAndDefault()
    {
        var (code, output, _) = Run("--registry", "docker.io", "--registry", "registry.lab:5000=http://registry.lab:5000", "--agent-url", "http://127.0.0.1:6060", "--dial-timeout", "2s");

        Assert.Equal(0, code);
        var hub = File.ReadAllText(Path.Combine(HostsDir, "docker.io", "hosts.toml"));
        Assert.StartsWith(HostsToml.Header + "\n", hub, StringComparison.Ordinal);
        Assert.Contains("server = \"https://registry-1.docker.io\"\n", hub, StringComparison.Ordinal);
        Assert.Contains("[host.\"http://127.0.0.1:6060\"]\n  capabilities = [\"pull\", \"resolve\"]\n  dial_timeout = \"2s\"\n", hub, StringComparison.Ordinal);
        var lab = File.ReadAllText(Path.Combine(HostsDir, "registry.lab:5000", "hosts.toml"));
        Assert.Contains("server = \"http://registry.lab:5000\"\n", lab, StringComparison.Ordinal);
        var fallback = File.ReadAllText(Path.Combine(HostsDir, "_default", "hosts.toml"));
        Assert.DoesNotContain("server =", fallback, StringComparison.Ordinal);
        Assert.Contains("[host.\"http://127.0.0.1:6060\"]", fallback, StringComparison.Ordinal);
        Assert.Equal(3, output.Split('\n').Count(l => l.Contains(": wrote ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Install_Twice_KeepsTheOriginalBackup_AndRestorePutsItBackByteForByte()
    {
        var file = WriteOriginal("docker.io", OriginalDockerHub);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        Assert.Equal(0, Run("--registry", "docker.io").Code);
        var first = File.ReadAllBytes(file + HostsDirectory.BackupSuffix);
        Assert.Equal(0, Run("--registry", "docker.io", "--agent-url", "http://127.0.0.1:7070").Code);

        Assert.Equal(OriginalDockerHub, first);
        Assert.Equal(OriginalDockerHub, File.ReadAllBytes(file + HostsDirectory.BackupSuffix));
        Assert.Contains("127.0.0.1:7070", File.ReadAllText(file), StringComparison.Ordinal);

        var (code, output, _) = Run("--restore");
        Assert.Equal(0, code);
        Assert.Equal(OriginalDockerHub, File.ReadAllBytes(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(file));
        Assert.False(File.Exists(file + HostsDirectory.BackupSuffix));
        Assert.False(Directory.Exists(Path.Combine(HostsDir, "_default")), "the folder node-setup made is gone");
        Assert.Contains("docker.io: put back the original", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Restore_RemovesFilesCreatedWhereThereWereNone_ButKeepsFoldersThatExisted()
    {
        Directory.CreateDirectory(Path.Combine(HostsDir, "ghcr.io"));
        File.WriteAllText(Path.Combine(HostsDir, "ghcr.io", "ca.crt"), "operator's certificate");
        var before = Snapshot();

        Assert.Equal(0, Run("--registry", "ghcr.io", "--registry", "quay.io").Code);
        Assert.True(File.Exists(Path.Combine(HostsDir, "ghcr.io", "hosts.toml")));
        Assert.True(File.Exists(Path.Combine(HostsDir, "quay.io", "hosts.toml")));
        Assert.Equal(0, Run("--restore").Code);

        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void Restore_AfterARunWithOtherRegistries_StillRestoresEveryFileItTouched()
    {
        var file = WriteOriginal("docker.io", OriginalDockerHub);
        var before = Snapshot();
        Assert.Equal(0, Run("--registry", "docker.io").Code);
        Assert.Equal(0, Run("--registry", "ghcr.io", "--no-default").Code);

        Assert.Equal(0, Run("--restore").Code);

        Assert.Equal(before, Snapshot());
        Assert.Equal(OriginalDockerHub, File.ReadAllBytes(file));
    }

    [Fact]
    public void Restore_WithNothingInstalled_ChangesNothing()
    {
        WriteOriginal("docker.io", OriginalDockerHub);
        var before = Snapshot();

        var (code, output, _) = Run("--restore");

        Assert.Equal(0, code);
        Assert.Equal(before, Snapshot());
        Assert.Contains("nothing to restore", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("docker.io/library")]
    [InlineData("Docker.io")]
    [InlineData("registry.lab:99999")]
    [InlineData("")]
    [InlineData("_default")]
    [InlineData("registry.lab=ftp://registry.lab")]
    [InlineData("registry.lab=https://registry.lab/some/path")]
    public void Install_BadRegistryName_ExitsTwoNamingIt_AndWritesNothing(string registry)
    {
        var (code, _, error) = Run("--registry", registry);

        Assert.Equal(2, code);
        Assert.Contains("--registry", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(HostsDir));
    }

    [Theory]
    [InlineData("--agent-url", "http://127.0.0.1:5050/v2/")]
    [InlineData("--agent-url", "not a url")]
    [InlineData("--dial-timeout", "5m")]
    [InlineData("--dial-timeout", "0s")]
    [InlineData("--hosts-dir", "relative/certs.d")]
    public void Install_BadValue_ExitsTwoNamingTheOption(string option, string value)
    {
        var arguments = new List<string> { "node-setup", "--containerd-config", NoConfig, option, value };
        if (option != "--hosts-dir")
        {
            arguments.InsertRange(1, ["--hosts-dir", HostsDir]);
        }

        var (code, _, error) = RunRaw([.. arguments]);

        Assert.Equal(2, code);
        Assert.Contains(option, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(HostsDir));
    }

    [Fact]
    public void Install_UnknownOption_ExitsTwo()
    {
        var (code, _, error) = Run("--registries", "docker.io");
        Assert.Equal(2, code);
        Assert.Contains("--registries", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_HostsDirUnderAFile_ExitsOneWithAClearMessage()
    {
        var blocker = _temp.Combine("a-file");
        File.WriteAllText(blocker, "not a folder");
        var (code, _, error) = RunRaw("node-setup", "--hosts-dir", Path.Combine(blocker, "certs.d"), "--containerd-config", NoConfig);

        Assert.Equal(NodeSetupCommand.ExitFailed, code);
        Assert.Contains($"cannot write {Path.Combine(blocker, "certs.d")}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_ReadOnlyHostsDir_ExitsOneWithAClearMessage()
    {
        // A read-only bind mount stops root as well (the tests run as root, which file modes do not stop), as a
        // hostPath mounted readOnly would.
        Directory.CreateDirectory(HostsDir);
        await ProcessRunner.RunOrThrowAsync("mount", ["--bind", HostsDir, HostsDir], TimeSpan.FromSeconds(30));
        try
        {
            await ProcessRunner.RunOrThrowAsync("mount", ["-o", "remount,bind,ro", HostsDir], TimeSpan.FromSeconds(30));
            var (code, _, error) = Run("--registry", "docker.io");
            Assert.Equal(NodeSetupCommand.ExitFailed, code);
            Assert.Contains($"cannot write {HostsDir}", error, StringComparison.Ordinal);
            Assert.Contains("read-only file system", error, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await ProcessRunner.RunOrThrowAsync("umount", [HostsDir], TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void Install_TheAgentServerDoesNotStart_AndHelpListsTheOptions()
    {
        var (code, output, _) = RunRaw("node-setup", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--hosts-dir", "--registry", "--no-default", "--agent-url", "--dial-timeout", "--containerd-config", "--strict", "--restore" })
        {
            Assert.Contains(option, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Install_ContainerdConfigWithoutConfigPath_WarnsWithTheLinesToAdd_StrictExitsFour()
    {
        var config = _temp.Combine("config.toml");
        File.WriteAllText(config, "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"pause:3.9\"\n");

        var (code, _, error) = RunRaw("node-setup", "--hosts-dir", HostsDir, "--containerd-config", config);
        Assert.Equal(0, code);
        Assert.Contains("warning", error, StringComparison.Ordinal);
        Assert.Contains($"[plugins.\"io.containerd.grpc.v1.cri\".registry]{Environment.NewLine}  config_path = \"{HostsDir}\"", error, StringComparison.Ordinal);

        var strict = RunRaw("node-setup", "--hosts-dir", HostsDir, "--containerd-config", config, "--strict");
        Assert.Equal(NodeSetupCommand.ExitContainerdNotConfigured, strict.Code);
        Assert.True(File.Exists(Path.Combine(HostsDir, "docker.io", "hosts.toml")), "the files are written even when the check fails");
    }

    [Fact]
    public void Install_ContainerdConfigWithConfigPath_Succeeds_EvenStrict()
    {
        var config = _temp.Combine("config.toml");
        File.WriteAllText(config, $"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"{HostsDir}/\"\n");

        var (code, output, error) = RunRaw("node-setup", "--hosts-dir", HostsDir, "--containerd-config", config, "--strict");

        Assert.Equal(0, code);
        Assert.Contains("the CRI plugin reads", output, StringComparison.Ordinal);
        Assert.Equal("", error);
    }

    [Fact]
    public void Install_HttpsAgent_WritesTheCaAndTheClientCertificateContainerdUses()
    {
        var (code, _, error) = Run("--registry", "docker.io", "--agent-url", "https://127.0.0.1:5050",
            "--agent-ca", "/etc/p2pregistry/tls/ca.crt", "--agent-client-cert", "/etc/p2pregistry/tls/node.crt", "--agent-client-key", "/etc/p2pregistry/tls/node.key");

        Assert.Equal(0, code);
        Assert.DoesNotContain("error", error, StringComparison.Ordinal);
        var hub = File.ReadAllText(Path.Combine(HostsDir, "docker.io", "hosts.toml"));
        Assert.Contains(
            "[host.\"https://127.0.0.1:5050\"]\n  capabilities = [\"pull\", \"resolve\"]\n  dial_timeout = \"500ms\"\n" +
            "  ca = \"/etc/p2pregistry/tls/ca.crt\"\n  client = [[\"/etc/p2pregistry/tls/node.crt\", \"/etc/p2pregistry/tls/node.key\"]]\n",
            hub,
            StringComparison.Ordinal);
        Assert.Contains("ca = \"/etc/p2pregistry/tls/ca.crt\"", File.ReadAllText(Path.Combine(HostsDir, "_default", "hosts.toml")), StringComparison.Ordinal);
    }

    [Fact]
    public void Install_TlsPathWithAQuote_IsEscapedForToml()
    {
        Assert.Equal(0, Run("--agent-url", "https://127.0.0.1:5050", "--agent-ca", "/etc/odd\"dir/ca.crt").Code);

        Assert.Contains("  ca = \"/etc/odd\\\"dir/ca.crt\"\n", File.ReadAllText(Path.Combine(HostsDir, "docker.io", "hosts.toml")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--agent-url=http://127.0.0.1:5050", "--agent-ca=/ca.crt", "need an https --agent-url")]
    [InlineData("--agent-url=https://127.0.0.1:5050", "--agent-client-cert=/node.crt", "go together")]
    [InlineData("--agent-url=https://127.0.0.1:5050", "--agent-ca=ca.crt", "--agent-ca must be an absolute path")]
    public void Install_BadTlsOptions_RefusedWritingNothing(string agentUrl, string tlsOption, string expected)
    {
        var (code, _, error) = Run(agentUrl, tlsOption);

        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(HostsDir) && Directory.EnumerateFileSystemEntries(HostsDir).Any(), "nothing written");
    }

    private (int Code, string Output, string Error) Run(params string[] options) =>
        RunRaw(["node-setup", "--hosts-dir", HostsDir, "--containerd-config", NoConfig, .. options]);

    private static (int Code, string Output, string Error) RunRaw(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = NodeSetupCommand.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private string WriteOriginal(string host, byte[] bytes)
    {
        var folder = Directory.CreateDirectory(Path.Combine(HostsDir, host)).FullName;
        var file = Path.Combine(folder, "hosts.toml");
        File.WriteAllBytes(file, bytes);
        return file;
    }

    /// <summary>Every entry under the hosts directory with its bytes (folders as empty).</summary>
    private SortedDictionary<string, string> Snapshot()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (Directory.Exists(HostsDir))
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(HostsDir, "*", SearchOption.AllDirectories))
            {
                result[Path.GetRelativePath(HostsDir, entry)] = File.Exists(entry) ? Convert.ToBase64String(File.ReadAllBytes(entry)) : "<dir>";
            }
        }

        return result;
    }
}

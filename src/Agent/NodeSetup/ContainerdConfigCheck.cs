using Tomlyn;
using Tomlyn.Model;

namespace P2PRegistry.Agent.NodeSetup;

/// <summary>
/// Whether containerd's CRI plugin (the one kubelet pulls through) reads the hosts directory: its
/// <c>registry.config_path</c>, under <c>plugins."io.containerd.grpc.v1.cri"</c> in a version 2 config
/// (containerd 1.x), <c>plugins."io.containerd.cri.v1.images"</c> in version 3 (containerd 2.x), <c>plugins.cri</c> in
/// version 1. <c>ctr</c> does not read it (it takes <c>--hosts-dir</c>).
/// </summary>
internal static class ContainerdConfigCheck
{
    internal enum Outcome
    {
        /// <summary>config_path names the hosts directory.</summary>
        Configured,

        /// <summary>No config_path (or no config file): the CRI plugin ignores the hosts directory.</summary>
        NotConfigured,

        /// <summary>config_path names other folders only.</summary>
        OtherPath,

        /// <summary>The file is not TOML node-setup can read.</summary>
        Unreadable,
    }

    internal sealed record Result(Outcome Outcome, string Message);

    public static Result Check(string configFile, string hostsDirectory)
    {
        var wanted = Normalize(hostsDirectory);
        if (!File.Exists(configFile))
        {
            return new Result(Outcome.NotConfigured,
                $"{configFile} does not exist, so containerd runs on its defaults: containerd 1.x then reads no hosts directory for kubelet's pulls " +
                $"(2.x reads /etc/containerd/certs.d). Create it with these lines, then restart containerd:{Environment.NewLine}version = 2{Environment.NewLine}{Snippet(2, wanted)}{Environment.NewLine}" +
                $"or for containerd 2.x:{Environment.NewLine}version = 3{Environment.NewLine}{Snippet(3, wanted)}");
        }

        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize(File.ReadAllText(configFile), ContainerdTomlContext.Default.TomlTable) ?? new TomlTable();
        }
        catch (TomlException ex)
        {
            return new Result(Outcome.Unreadable, $"{configFile} is not valid TOML ({ex.Message}); cannot tell whether the CRI plugin reads {wanted}.");
        }

        var version = root.TryGetValue("version", out var v) && v is long number ? number : 1;
        var plugin = version switch
        {
            >= 3 => "io.containerd.cri.v1.images",
            2 => "io.containerd.grpc.v1.cri",
            _ => "cri",
        };
        var registry = Table(Table(Table(root, "plugins"), plugin), "registry");
        var disabled = root.TryGetValue("disabled_plugins", out var d) && d is TomlArray list
                       && list.OfType<string>().Any(p => p is "cri" or "io.containerd.grpc.v1.cri" or "io.containerd.cri.v1.images");
        var note = disabled ? $" Note: {configFile} disables the CRI plugin, so kubelet cannot pull through containerd at all." : "";

        var configured = registry is not null && registry.TryGetValue("config_path", out var p) && p is string path ? path : "";
        if (configured.Length == 0)
        {
            var mirrors = registry is not null && registry.ContainsKey("mirrors")
                ? $" Remove the [plugins.\"{plugin}\".registry.mirrors] tables too: containerd refuses them together with config_path."
                : "";
            return new Result(Outcome.NotConfigured,
                $"{configFile} (config version {version}) sets no config_path for the CRI plugin, so kubelet's pulls ignore {wanted}. " +
                $"Add these lines and restart containerd:{Environment.NewLine}{Snippet(version, wanted)}{mirrors}{note}");
        }

        // config_path may list several folders, separated by ':' (containerd searches them in order).
        if (configured.Split(':').Select(Normalize).Contains(wanted, StringComparer.Ordinal))
        {
            return new Result(Outcome.Configured, $"{configFile}: the CRI plugin reads {wanted} (config_path = \"{configured}\").{note}");
        }

        return new Result(Outcome.OtherPath,
            $"{configFile} sets config_path = \"{configured}\", not {wanted}: kubelet's pulls do not see the files written here. " +
            $"Run node-setup with --hosts-dir {configured.Split(':')[0]}, or change the line to:{Environment.NewLine}{Snippet(version, wanted)}{note}");
    }

    public static string Snippet(long version, string hostsDirectory) => version switch
    {
        >= 3 => $"[plugins.\"io.containerd.cri.v1.images\".registry]{Environment.NewLine}  config_path = \"{hostsDirectory}\"",
        2 => $"[plugins.\"io.containerd.grpc.v1.cri\".registry]{Environment.NewLine}  config_path = \"{hostsDirectory}\"",
        _ => $"[plugins.cri.registry]{Environment.NewLine}  config_path = \"{hostsDirectory}\"",
    };

    private static TomlTable? Table(TomlTable? parent, string key) =>
        parent is not null && parent.TryGetValue(key, out var value) ? value as TomlTable : null;

    private static string Normalize(string path) => path.Length > 1 ? path.TrimEnd('/') : path;
}

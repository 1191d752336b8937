using System.Globalization;
using System.Text;

namespace P2PRegistry.Agent.NodeSetup;

/// <summary>
/// containerd's registry host file (<c>&lt;config_path&gt;/&lt;host&gt;/hosts.toml</c>, containerd docs/hosts.md):
/// the agent as the one mirror (<c>[host]</c>, pull and resolve), the real registry as <c>server</c>. containerd tries
/// the mirror first and the server after it, per request; it adds <c>?ns=&lt;host&gt;</c> to what it sends a mirror,
/// which tells the agent the upstream registry.
/// </summary>
internal static class HostsToml
{
    /// <summary>The first line of every file node-setup writes: how <c>--restore</c> recognises its own files.</summary>
    public const string Header = "# Written by P2PRegistry.Agent node-setup; `node-setup --restore` puts back what was here.";

    public static string Render(RegistryTarget target, Uri agent, TimeSpan dialTimeout, AgentTls? tls = null)
    {
        var text = new StringBuilder().Append(Header).Append('\n');
        if (target.Server is { } server)
        {
            text.Append(CultureInfo.InvariantCulture, $"server = \"{server.GetLeftPart(UriPartial.Authority)}\"\n");
        }
        else
        {
            text.Append("# No server: containerd falls back to the registry the image reference names.\n");
        }

        // dial_timeout: when the agent is not listening (restarting, not started yet) a refused connection moves on
        // at once; this bounds the case where the connection attempt hangs.
        text.Append('\n')
            .Append(CultureInfo.InvariantCulture, $"[host.\"{agent.GetLeftPart(UriPartial.Authority)}\"]\n")
            .Append("  capabilities = [\"pull\", \"resolve\"]\n")
            .Append(CultureInfo.InvariantCulture, $"  dial_timeout = \"{GoDuration(dialTimeout)}\"\n");

        // An https agent: the CA containerd verifies it against, and the client certificate it presents under mutual
        // TLS (containerd docs/hosts.md: ca = "path", client = [["cert", "key"]]).
        if (tls?.CaPath is { } ca)
        {
            text.Append(CultureInfo.InvariantCulture, $"  ca = {Quoted(ca)}\n");
        }

        if (tls is { ClientCertificatePath: { } certificate, ClientKeyPath: { } key })
        {
            text.Append(CultureInfo.InvariantCulture, $"  client = [[{Quoted(certificate)}, {Quoted(key)}]]\n");
        }

        return text.ToString();
    }

    // A TOML basic string: the paths come from the command line, so backslashes and quotes are escaped.
    private static string Quoted(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>A Go <c>time.ParseDuration</c> string: whole seconds as <c>Ns</c>, else milliseconds as <c>Nms</c>.</summary>
    public static string GoDuration(TimeSpan value) => value.Ticks % TimeSpan.TicksPerSecond == 0
        ? ((long)value.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s"
        : ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
}

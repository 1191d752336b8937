using System.CommandLine;
using System.Text.RegularExpressions;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Hosting;

namespace P2PRegistry.Agent.NodeSetup;

/// <summary>
/// <c>P2PRegistry.Agent node-setup</c>: points the node's containerd at the agent (the DaemonSet's init container
/// runs it) and <c>--restore</c> undoes it. The agent's server starts only when the first argument is not
/// <c>node-setup</c>.
/// </summary>
internal static partial class NodeSetupCommand
{
    public const string Name = "node-setup";
    public const string DefaultHostsDirectory = "/etc/containerd/certs.d";
    public const string DefaultContainerdConfig = "/etc/containerd/config.toml";

    /// <summary>An I/O failure: the hosts directory cannot be read or written.</summary>
    public const int ExitFailed = 1;

    /// <summary><c>--strict</c> and containerd's CRI plugin does not read the hosts directory.</summary>
    public const int ExitContainerdNotConfigured = 4;

    public static bool Matches(string[] args) => args.Length > 0 && args[0] == Name;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var hostsDir = new Option<string>("--hosts-dir")
        {
            Description = "containerd's hosts directory (its CRI config_path; ctr's --hosts-dir).",
            DefaultValueFactory = _ => DefaultHostsDirectory,
        };
        var registries = new Option<string[]>("--registry")
        {
            Description = "A registry to route through the agent: host[:port], or host=URL to name its fallback server. Repeatable.",
            DefaultValueFactory = _ => ["docker.io"],
            AllowMultipleArgumentsPerToken = false,
        };
        var noDefault = new Option<bool>("--no-default") { Description = $"Do not write {RegistryTarget.DefaultHost}/hosts.toml (which routes every other registry through the agent)." };
        var agentUrl = new Option<string>("--agent-url")
        {
            Description = "Where containerd reaches the agent on this node (Agent:RegistryUrl).",
            DefaultValueFactory = _ => AgentOptions.DefaultRegistryUrl,
        };
        var dialTimeout = new Option<string>("--dial-timeout")
        {
            Description = "containerd's dial timeout for the agent (Go duration: 500ms, 2s).",
            DefaultValueFactory = _ => "500ms",
        };
        var agentCa = new Option<string?>("--agent-ca") { Description = "An https agent: the CA bundle containerd verifies it against (hosts.toml ca; a path on the node)." };
        var agentClientCertificate = new Option<string?>("--agent-client-cert") { Description = "An agent that requires client certificates: the certificate containerd presents (hosts.toml client; a path on the node)." };
        var agentClientKey = new Option<string?>("--agent-client-key") { Description = "The key of --agent-client-cert (a path on the node)." };
        var containerdConfig = new Option<string>("--containerd-config")
        {
            Description = "containerd's config file, checked for the CRI plugin's config_path.",
            DefaultValueFactory = _ => DefaultContainerdConfig,
        };
        var strict = new Option<bool>("--strict") { Description = $"Exit with {ExitContainerdNotConfigured} when the CRI plugin does not read the hosts directory (else it is a warning)." };
        var restore = new Option<bool>("--restore") { Description = "Put back what was there before the first node-setup, and remove the files it created." };

        var command = new RootCommand("Writes containerd hosts.toml files that route pulls through the node's P2PRegistry agent, or restores the originals.");
        var setup = new Command(Name, command.Description!) { hostsDir, registries, noDefault, agentUrl, dialTimeout, agentCa, agentClientCertificate, agentClientKey, containerdConfig, strict, restore };
        command.Subcommands.Add(setup);

        var exitCode = 0;
        setup.SetAction(parsed => exitCode = Execute(
            new Request(parsed.GetValue(hostsDir)!, parsed.GetValue(registries) ?? [], parsed.GetValue(noDefault), parsed.GetValue(agentUrl)!,
                parsed.GetValue(dialTimeout)!, parsed.GetValue(containerdConfig)!, parsed.GetValue(strict), parsed.GetValue(restore))
            {
                Tls = new AgentTls(parsed.GetValue(agentCa), parsed.GetValue(agentClientCertificate), parsed.GetValue(agentClientKey)),
            },
            output, error));

        var result = command.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var problem in result.Errors)
            {
                error.WriteLine($"{Name}: {problem.Message}");
            }

            error.WriteLine($"Run '{Name} --help' for the options.");
            return ComponentHost.ExitConfigurationError;
        }

        var invoked = result.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        return exitCode != 0 ? exitCode : invoked;
    }

    internal sealed record Request(string HostsDirectory, string[] Registries, bool NoDefault, string AgentUrl, string DialTimeout, string ContainerdConfig, bool Strict, bool Restore)
    {
        public AgentTls Tls { get; init; } = new(null, null, null);
    }

    private static int Execute(Request request, TextWriter output, TextWriter error)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(request.HostsDirectory) || !Path.IsPathRooted(request.HostsDirectory))
        {
            problems.Add($"--hosts-dir must be an absolute path, got '{request.HostsDirectory}'.");
        }

        var targets = new List<RegistryTarget>();
        foreach (var value in request.Registries)
        {
            if (RegistryTarget.TryParse(value, out var target, out var problem))
            {
                if (targets.Any(t => t.Host == target!.Host))
                {
                    problems.Add($"--registry {target!.Host} is given twice.");
                }

                targets.Add(target!);
            }
            else
            {
                problems.Add($"--registry {problem}");
            }
        }

        if (!request.NoDefault)
        {
            targets.Add(new RegistryTarget(RegistryTarget.DefaultHost, null));
        }

        if (!Uri.TryCreate(request.AgentUrl, UriKind.Absolute, out var agent) || agent.Scheme is not ("http" or "https") || agent.PathAndQuery != "/")
        {
            problems.Add($"--agent-url must be the agent's http(s) URL without a path (e.g. {AgentOptions.DefaultRegistryUrl}), got '{request.AgentUrl}'.");
        }

        var match = GoDurationPattern().Match(request.DialTimeout);
        var timeout = !match.Success ? TimeSpan.Zero
            : match.Groups[2].Value == "ms" ? TimeSpan.FromMilliseconds(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            : TimeSpan.FromSeconds(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromSeconds(30))
        {
            problems.Add($"--dial-timeout must be a duration from 1ms to 30s such as 500ms or 2s, got '{request.DialTimeout}'.");
        }

        CheckTls(problems, request.Tls, agent);

        if (!request.Restore && targets.Count == 0)
        {
            problems.Add("nothing to write: no --registry and --no-default.");
        }

        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                error.WriteLine($"{Name}: {problem}");
            }

            return ComponentHost.ExitConfigurationError;
        }

        var directory = new HostsDirectory(request.HostsDirectory);
        try
        {
            foreach (var line in request.Restore ? directory.Restore() : directory.Install(targets, agent!, timeout, request.Tls))
            {
                output.WriteLine(line);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{Name}: cannot {(request.Restore ? "restore" : "write")} {request.HostsDirectory}: {ex.Message}");
            return ExitFailed;
        }

        if (request.Restore)
        {
            return 0;
        }

        var check = ContainerdConfigCheck.Check(request.ContainerdConfig, request.HostsDirectory);
        if (check.Outcome == ContainerdConfigCheck.Outcome.Configured)
        {
            output.WriteLine(check.Message);
            return 0;
        }

        error.WriteLine($"{Name}: {(request.Strict ? "error" : "warning")}: {check.Message}");
        return request.Strict ? ExitContainerdNotConfigured : 0;
    }

    private static void CheckTls(List<string> problems, AgentTls tls, Uri? agent)
    {
        if (tls is { CaPath: null, ClientCertificatePath: null, ClientKeyPath: null })
        {
            return;
        }

        if (agent is not null && agent.Scheme != "https")
        {
            problems.Add($"--agent-ca, --agent-client-cert and --agent-client-key need an https --agent-url, got '{agent}'.");
        }

        if ((tls.ClientCertificatePath is null) != (tls.ClientKeyPath is null))
        {
            problems.Add("--agent-client-cert and --agent-client-key go together.");
        }

        foreach (var (name, path) in new[] { ("--agent-ca", tls.CaPath), ("--agent-client-cert", tls.ClientCertificatePath), ("--agent-client-key", tls.ClientKeyPath) })
        {
            if (path is not null && (!Path.IsPathRooted(path) || path.AsSpan().IndexOfAny('\n', '\r') >= 0))
            {
                problems.Add($"{name} must be an absolute path on the node, got '{path}'.");
            }
        }
    }

    [GeneratedRegex("^([0-9]{1,6})(ms|s)$", RegexOptions.CultureInvariant)]
    private static partial Regex GoDurationPattern();
}

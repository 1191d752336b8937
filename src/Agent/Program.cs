using P2PRegistry.Agent;
using P2PRegistry.Agent.NodeSetup;
using P2PRegistry.Hosting;

// "node-setup …" configures the node's containerd (the DaemonSet's init container) and exits; anything else starts
// the agent exactly as before.
if (NodeSetupCommand.Matches(args))
{
    return NodeSetupCommand.Run(args, Console.Out, Console.Error);
}

if (HealthProbe.IsRequested(args))
{
    return await HealthProbe.RunAsync(args, AgentApp.ListenUrl, Console.Out);
}

try
{
    return await ComponentHost.RunAsync("P2PRegistry.Agent", () => AgentApp.Build(args));
}
catch (InvalidOperationException ex) when (ex.Message.Contains("configuration value", StringComparison.Ordinal))
{
    // A value the binder cannot convert (e.g. --Agent:MissTimeout=soon): its message names the key.
    await Console.Error.WriteLineAsync($"P2PRegistry.Agent: invalid configuration: {ex.Message}");
    return ComponentHost.ExitConfigurationError;
}

using P2PRegistry.Agent;
using P2PRegistry.Hosting;

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

using P2PRegistry.Hosting;
using P2PRegistry.Origin;

if (P2PRegistry.Origin.Collection.GcCommand.Matches(args))
{
    return P2PRegistry.Origin.Collection.GcCommand.Run(args, Console.Out, Console.Error);
}

if (HealthProbe.IsRequested(args))
{
    return await HealthProbe.RunAsync(args, OriginApp.ListenUrl, Console.Out);
}

try
{
    return await ComponentHost.RunAsync("P2PRegistry.Origin", () => OriginApp.Build(args));
}
catch (InvalidOperationException ex) when (ex.Message.Contains("configuration value", StringComparison.Ordinal))
{
    // A value the binder cannot convert (e.g. --Origin:MaxUploadBytes=lots): its message names the key.
    await Console.Error.WriteLineAsync($"P2PRegistry.Origin: invalid configuration: {P2PRegistry.Origin.Diagnostics.Redact.UserInfo(ex.Message)}");
    return ComponentHost.ExitConfigurationError;
}

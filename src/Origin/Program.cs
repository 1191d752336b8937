using P2PRegistry.Origin;

var app = OriginApp.Build(args);
try
{
    await app.StartAsync();
}
catch (Exception ex) when (ex is Microsoft.Extensions.Options.OptionsValidationException or InvalidOperationException or IOException)
{
    // A bad setting (or a port in use) fails start with its message, not a stack trace, and a non-zero exit.
    await Console.Error.WriteLineAsync($"P2PRegistry.Origin failed to start: {ex.Message}");
    return 2;
}

await app.WaitForShutdownAsync();
return 0;

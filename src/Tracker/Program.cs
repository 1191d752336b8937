using P2PRegistry.Hosting;
using P2PRegistry.Tracker;

if (HealthProbe.IsRequested(args))
{
    return await HealthProbe.RunAsync(args, TrackerApp.ListenUrl, Console.Out).ConfigureAwait(false);
}

return await ComponentHost.RunAsync("tracker", () => TrackerApp.Build(args)).ConfigureAwait(false);

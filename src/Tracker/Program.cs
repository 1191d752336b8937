using P2PRegistry.Hosting;
using P2PRegistry.Tracker;

return await ComponentHost.RunAsync("tracker", () => TrackerApp.Build(args)).ConfigureAwait(false);

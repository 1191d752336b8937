using P2PRegistry.Tracker;

await TrackerApp.Build(args).RunAsync().ConfigureAwait(false);

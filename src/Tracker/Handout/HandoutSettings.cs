namespace P2PRegistry.Tracker.Handout;

/// <summary>How many peers to hand out and how often peers should announce, resolved from <c>TrackerOptions</c>.</summary>
internal sealed record HandoutSettings(int MaxPeers, TimeSpan DownloadingInterval, TimeSpan SeedingInterval, TimeSpan MinInterval);

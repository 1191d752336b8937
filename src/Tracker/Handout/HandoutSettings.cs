namespace P2PRegistry.Tracker.Handout;

/// <summary>How many peers to hand out, in what order, and how often peers should announce; resolved from <c>TrackerOptions</c>.</summary>
/// <param name="Locality">Whether peers in the asker's rack, then its zone, come first (<c>Tracker:Locality</c>).</param>
/// <param name="RemoteShare">With <paramref name="Locality"/>: the share of a handout kept for peers outside the asker's
/// zone (at least one when any exist), so swarms stay connected across zones (<c>Tracker:RemoteShare</c>).</param>
/// <param name="OriginZone">With <paramref name="Locality"/>: the zone the origin sits in (<c>Tracker:OriginZone</c>); empty = unknown.</param>
internal sealed record HandoutSettings(
    int MaxPeers,
    TimeSpan DownloadingInterval,
    TimeSpan SeedingInterval,
    TimeSpan MinInterval,
    bool Locality = true,
    double RemoteShare = HandoutSettings.DefaultRemoteShare,
    string OriginZone = "")
{
    public const double DefaultRemoteShare = 0.2;
}

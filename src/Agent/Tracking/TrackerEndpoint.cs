using P2PRegistry.Swarm.Tracking;

namespace P2PRegistry.Agent.Tracking;

/// <summary>One configured tracker: its id on the rendezvous ring (the normalised URL), its gRPC channel and the clients over it.</summary>
/// <param name="probe">The readiness round trip (<see cref="ITrackerProbe"/>); null = a tracker that cannot be probed, never reachable for readiness.</param>
internal sealed class TrackerEndpoint(string url, ITrackerClient announces, IMetaInfoSource metaInfos, IDisposable? channel = null, ITrackerProbe? probe = null) : IDisposable
{
    public string Url { get; } = url;

    public ITrackerClient Announces { get; } = announces;

    public IMetaInfoSource MetaInfos { get; } = metaInfos;

    public ITrackerProbe? Probe { get; } = probe;

    public void Dispose() => channel?.Dispose();

    public override string ToString() => Url;
}

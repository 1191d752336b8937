namespace P2PRegistry.Tracker.Peers;

/// <summary>How near one peer sits to another, by their <see cref="PeerLocality"/>; nearer first.</summary>
internal enum Proximity
{
    SameRack,
    SameZone,
    Remote,
}

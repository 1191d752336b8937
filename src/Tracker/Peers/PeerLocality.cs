using P2PRegistry.Core.Placement;

namespace P2PRegistry.Tracker.Peers;

/// <summary>A peer's topology labels: its zone and, inside it, its rack. Empty strings when unknown.</summary>
internal sealed record PeerLocality(string Zone, string Rack)
{
    /// <summary>The longest label accepted; longer ones are refused at admission.</summary>
    public const int MaxLabelLength = TopologyLabel.MaxLength;

    public static PeerLocality Unknown { get; } = new(string.Empty, string.Empty);

    public bool HasZone => Zone.Length != 0;

    /// <summary>Labels as sent (null = not sent): both unknown is the shared <see cref="Unknown"/>, so a swarm of peers that did not say costs nothing.</summary>
    public static PeerLocality From(string? zone, string? rack) =>
        string.IsNullOrEmpty(zone) && string.IsNullOrEmpty(rack) ? Unknown : new(zone ?? string.Empty, rack ?? string.Empty);

    /// <summary>
    /// How near <paramref name="other"/> sits to this peer: same rack (same zone and rack, both known), same zone
    /// (known), or remote — an unknown zone on either side counts as remote, since nothing says the link is cheap.
    /// A rack is only meaningful inside its zone: the same rack name in two zones is two racks.
    /// </summary>
    public Proximity ProximityOf(PeerLocality other)
    {
        if (!HasZone || !string.Equals(Zone, other.Zone, StringComparison.Ordinal))
        {
            return Proximity.Remote;
        }

        return Rack.Length != 0 && string.Equals(Rack, other.Rack, StringComparison.Ordinal) ? Proximity.SameRack : Proximity.SameZone;
    }
}

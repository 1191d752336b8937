namespace P2PRegistry.Tracker.Peers;

/// <summary>A peer's topology labels: its zone and, inside it, its rack. Empty strings when unknown.</summary>
internal sealed record PeerLocality(string Zone, string Rack)
{
    /// <summary>The longest label accepted; longer ones are refused at admission.</summary>
    public const int MaxLabelLength = 63;

    public static PeerLocality Unknown { get; } = new(string.Empty, string.Empty);
}

using P2PRegistry.Core.Placement;

namespace P2PRegistry.Swarm.Tracking;

/// <summary>
/// Where this peer sits: its zone and, inside it, its rack (empty = unknown), sent with every gRPC announce so the
/// tracker hands out near peers first. Each label follows <see cref="TopologyLabel"/> (a Kubernetes label value).
/// </summary>
public sealed record TopologyLabels
{
    public TopologyLabels(string? zone, string? rack)
    {
        Zone = Check(zone, nameof(zone));
        Rack = Check(rack, nameof(rack));
    }

    public static TopologyLabels Unknown { get; } = new(null, null);

    public string Zone { get; }

    public string Rack { get; }

    private static string Check(string? value, string name) =>
        TopologyLabel.Problem(value) is { } problem ? throw new ArgumentException($"The {name} label '{value}' {problem}.", name) : value ?? string.Empty;
}

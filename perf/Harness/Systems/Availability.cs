namespace P2PRegistry.Harness.Systems;

/// <summary>Whether a system can run on this machine; the reason is shown in the report when it cannot.</summary>
internal sealed record Availability(bool IsAvailable, string? Reason)
{
    public static Availability Yes { get; } = new(true, null);

    public static Availability No(string reason) => new(false, reason);
}

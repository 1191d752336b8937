namespace P2PRegistry.Agent.Configuration;

/// <summary>
/// The agent's disk garbage collection (section <c>Agent:Gc</c>), like the kubelet's image GC: when usage passes
/// <see cref="HighThresholdPercent"/>, the least recently used things the agent wrote go until usage is below
/// <see cref="LowThresholdPercent"/>. Usage is that of the file system holding <c>Agent:DataPath</c>; when
/// <c>Agent:CacheCapacityBytes</c> is set, the agent's own usage against that capacity counts too (the same percents).
/// </summary>
public sealed class AgentGcOptions
{
    public const string SectionName = "Gc";

    /// <summary>How often the collector checks the usage (it also runs whenever a blob enters the cache).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Above this percent of the budget a run evicts.</summary>
    public int HighThresholdPercent { get; set; } = 85;

    /// <summary>A run that evicts stops once usage is below this percent of the budget.</summary>
    public int LowThresholdPercent { get; set; } = 80;

    /// <summary>Nothing the agent wrote or fetched less than this long ago is evicted.</summary>
    public TimeSpan MinimumAge { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>One message per problem, each naming the key and the value.</summary>
    public IEnumerable<string> Validate(string prefix)
    {
        if (Interval <= TimeSpan.Zero || Interval > TimeSpan.FromDays(1))
        {
            yield return $"{prefix}:Interval must be positive and at most a day, got {Interval}.";
        }

        if (HighThresholdPercent is < 1 or > 100)
        {
            yield return $"{prefix}:HighThresholdPercent must be 1…100, got {HighThresholdPercent}.";
        }

        if (LowThresholdPercent < 0 || LowThresholdPercent >= HighThresholdPercent)
        {
            yield return $"{prefix}:LowThresholdPercent must be 0 or more and below {prefix}:HighThresholdPercent ({HighThresholdPercent}), got {LowThresholdPercent}.";
        }

        if (MinimumAge < TimeSpan.Zero)
        {
            yield return $"{prefix}:MinimumAge must not be negative, got {MinimumAge}.";
        }
    }
}

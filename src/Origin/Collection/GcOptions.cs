namespace P2PRegistry.Origin.Collection;

/// <summary>Garbage collection of unreferenced blobs (<c>Origin:Gc</c>); see <see cref="GarbageCollector"/>.</summary>
public sealed class GcOptions
{
    /// <summary>False: no pass runs in the origin (the <c>gc</c> subcommand still works).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Time between passes (the first runs one interval after start).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// An unreferenced blob written or last linked more recently than this stays: it may belong to a push whose
    /// manifest is not there yet. Pulled-through content evicted by <c>Origin:PullThroughCacheBytes</c> does not wait.
    /// </summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>True: passes only log what they would remove (and what the quota would evict).</summary>
    public bool DryRun { get; set; }
}

namespace P2PRegistry.Agent.Cache;

/// <summary>What one collector run did: usage before and after, what it removed, how long it took.</summary>
internal sealed record GcRun(
    long UsedBefore,
    long UsedAfter,
    DiskUsage FileSystemBefore,
    DiskUsage FileSystemAfter,
    long BytesToFree,
    IReadOnlyList<GcItem> Removed,
    int Expired,
    TimeSpan Duration)
{
    public long Freed => Removed.Sum(static r => r.Bytes);
}

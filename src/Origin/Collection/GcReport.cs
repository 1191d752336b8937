using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Collection;

/// <summary>What one collection pass removed (or, dry, would remove).</summary>
internal sealed class GcReport
{
    public bool DryRun { get; init; }

    /// <summary>Blobs removed with their size (data only; metainfo and links go with them), in digest order.</summary>
    public List<(Digest Digest, long Size)> Removed { get; } = [];

    /// <summary>Pulled-through manifest revisions evicted by the quota.</summary>
    public List<(string Repository, Digest Digest)> Evicted { get; } = [];

    /// <summary>Unreferenced blobs kept this pass: younger than the grace period, or held by a push in progress.</summary>
    public int Deferred { get; set; }

    /// <summary>Every blob no manifest here references, as this pass found them (removed or deferred).</summary>
    public HashSet<Digest> Unreferenced { get; } = [];

    public int Manifests { get; set; }

    public int BlobsSeen { get; set; }

    public int Doubtful { get; set; }

    /// <summary>Bytes of pulled-through content kept (not also reachable from pushed content).</summary>
    public long PullThroughBytes { get; set; }

    public long RemovedBytes => Removed.Sum(r => r.Size);

    public TimeSpan Duration { get; set; }
}

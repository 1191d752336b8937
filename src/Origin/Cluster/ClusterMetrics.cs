using System.Diagnostics.Metrics;
using P2PRegistry.Origin.Diagnostics;

namespace P2PRegistry.Origin.Cluster;

/// <summary>The cluster's instruments, under the origin's meter <see cref="OriginMetrics.MeterName"/>.</summary>
internal sealed class ClusterMetrics
{
    private readonly Counter<long> _copies;
    private readonly Counter<long> _bytesCopied;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _proxied;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _tooFewCopies;

    public ClusterMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(OriginMetrics.MeterName);
        _copies = meter.CreateCounter<long>("p2pregistry.origin.cluster.copies", "{copy}", "Blob copies sent to other members, by reason (push, repair) and result (ok, failed).");
        _bytesCopied = meter.CreateCounter<long>("p2pregistry.origin.cluster.bytes_copied", "By", "Blob bytes copied to other members.");
        _dropped = meter.CreateCounter<long>("p2pregistry.origin.cluster.local_copies_removed", "{blob}", "Local blob copies removed because the blob's owners hold it.");
        _proxied = meter.CreateCounter<long>("p2pregistry.origin.cluster.proxied", "{request}", "Blob and metainfo requests answered from another member, by kind (blob, metainfo).");
        _refused = meter.CreateCounter<long>("p2pregistry.origin.cluster.refused", "{request}", "Cluster API requests refused, by reason: unauthenticated (no secret, no origin certificate; counted per client towards its limit), rate_limited (the client used up its failed attempts).");
        _tooFewCopies = meter.CreateCounter<long>("p2pregistry.origin.cluster.too_few_copies", "{upload}", "Blob pushes answered 503 because fewer than R members were reachable.");
    }

    public void Copy(string reason, bool ok, long bytes)
    {
        _copies.Add(1, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("result", ok ? "ok" : "failed"));
        if (ok)
        {
            _bytesCopied.Add(bytes);
        }
    }

    public void Dropped() => _dropped.Add(1);

    public void Proxied(string kind) => _proxied.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Refused(string reason) => _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void TooFewCopies() => _tooFewCopies.Add(1);
}

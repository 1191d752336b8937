using System.Diagnostics.Metrics;

namespace P2PRegistry.Origin.Diagnostics;

/// <summary>The origin's instruments, all under the meter <see cref="MeterName"/>.</summary>
internal sealed class OriginMetrics
{
    public const string MeterName = "P2PRegistry.Origin";

    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _uploadsCompleted;
    private readonly Counter<long> _digestMismatches;
    private readonly Counter<long> _metaInfoRehash;
    private readonly Counter<long> _manifestsStored;
    private readonly Counter<long> _upstreamRequests;
    private readonly Counter<long> _upstreamBytes;
    private readonly Counter<long> _fillsStarted;
    private readonly Counter<long> _fillsCompleted;
    private readonly Counter<long> _fillsFailed;
    private readonly Counter<long> _upstreamDigestMismatches;
    private readonly Counter<long> _blobsQuarantined;
    private readonly Counter<long> _fillsRefused;
    private readonly Counter<long> _notFoundCacheHits;
    private readonly Counter<long> _uploadsRefused;
    private readonly Counter<long> _pushRefusals;
    private readonly Counter<long> _diskFull;

    public OriginMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _bytesSent = meter.CreateCounter<long>("p2pregistry.origin.blob.bytes_sent", "By", "Blob bytes sent to clients.");
        _bytesReceived = meter.CreateCounter<long>("p2pregistry.origin.blob.bytes_received", "By", "Blob bytes received in uploads.");
        _uploadsCompleted = meter.CreateCounter<long>("p2pregistry.origin.uploads.completed", "{upload}", "Blob uploads verified and stored.");
        _digestMismatches = meter.CreateCounter<long>("p2pregistry.origin.digest_mismatches", "{upload}", "Uploads refused because the content did not hash to the claimed digest.");
        _metaInfoRehash = meter.CreateCounter<long>("p2pregistry.origin.metainfo.rehash", "{blob}", "Metainfos computed by re-reading a stored blob instead of while it streamed in.");
        _manifestsStored = meter.CreateCounter<long>("p2pregistry.origin.manifests.stored", "{manifest}", "Manifests stored.");
        _upstreamRequests = meter.CreateCounter<long>("p2pregistry.origin.upstream.requests", "{request}", "Requests to upstream registries, by kind (manifest_head, manifest_get, blob_head, blob_get) and result.");
        _upstreamBytes = meter.CreateCounter<long>("p2pregistry.origin.upstream.bytes_received", "By", "Blob bytes received from upstream registries.");
        _fillsStarted = meter.CreateCounter<long>("p2pregistry.origin.upstream.fills.started", "{fill}", "Blob fills from an upstream started (one per digest however many requesters).");
        _fillsCompleted = meter.CreateCounter<long>("p2pregistry.origin.upstream.fills.completed", "{fill}", "Blob fills verified and stored.");
        _fillsFailed = meter.CreateCounter<long>("p2pregistry.origin.upstream.fills.failed", "{fill}", "Blob fills that stored nothing (upstream error, timeout, digest mismatch).");
        _upstreamDigestMismatches = meter.CreateCounter<long>("p2pregistry.origin.upstream.digest_mismatches", "{object}", "Blobs or manifests from an upstream that did not hash to their digest.");
        _fillsRefused = meter.CreateCounter<long>("p2pregistry.origin.upstream.fills.refused", "{request}", "Requests answered 503 because every fill slot (Origin:MaxConcurrentFills) stayed busy.");
        _notFoundCacheHits = meter.CreateCounter<long>("p2pregistry.origin.upstream.not_found_cache_hits", "{request}", "Requests answered 404 from the negative cache instead of asking the upstream.");
        _uploadsRefused = meter.CreateCounter<long>("p2pregistry.origin.uploads.refused", "{request}", "Upload and manifest writes refused by a limit, by reason (sessions, client_sessions, bytes_in_flight, disk_full).");
        _blobsQuarantined = meter.CreateCounter<long>("p2pregistry.origin.blobs.quarantined", "{blob}", "Stored blobs found corrupt while seeding and moved out of the store.");
        _diskFull = meter.CreateCounter<long>("p2pregistry.origin.disk_full", "{write}", "Writes refused because the storage volume was full (ENOSPC/EDQUOT), by path (upload, manifest, fill, upstream_manifest, metainfo, link).");
        _pushRefusals = meter.CreateCounter<long>("p2pregistry.origin.push.refusals", "{request}", "Writing requests refused by push authentication, by reason (credentials, throttled, prefix).");
    }

    public void BytesSent(long count) => _bytesSent.Add(count);

    public void BytesReceived(long count) => _bytesReceived.Add(count);

    public void UploadCompleted() => _uploadsCompleted.Add(1);

    public void DigestMismatch() => _digestMismatches.Add(1);

    public void MetaInfoRehash() => _metaInfoRehash.Add(1);

    public void ManifestStored() => _manifestsStored.Add(1);

    public void UpstreamRequest(string upstream, string kind, string result) =>
        _upstreamRequests.Add(1, new KeyValuePair<string, object?>("upstream", upstream), new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", result));

    public void UpstreamBytes(long count) => _upstreamBytes.Add(count);

    public void FillStarted() => _fillsStarted.Add(1);

    public void FillCompleted() => _fillsCompleted.Add(1);

    public void FillFailed() => _fillsFailed.Add(1);

    public void UpstreamDigestMismatch() => _upstreamDigestMismatches.Add(1);

    public void BlobQuarantined() => _blobsQuarantined.Add(1);

    public void FillRefused() => _fillsRefused.Add(1);

    public void NotFoundCacheHit() => _notFoundCacheHits.Add(1);

    public void UploadRefused(string reason) => _uploadsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));
    public void DiskFull(string path) => _diskFull.Add(1, new KeyValuePair<string, object?>("path", path));

    public void PushRefused(string reason) => _pushRefusals.Add(1, new KeyValuePair<string, object?>("reason", reason));
}

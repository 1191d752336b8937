using System.Diagnostics.Metrics;

namespace P2PRegistry.Agent.Diagnostics;

/// <summary>The agent's counters (meter <c>P2PRegistry.Agent</c>); the swarm's own are in <c>P2PRegistry.Swarm</c>.</summary>
public sealed class AgentMetrics
{
    public const string MeterName = "P2PRegistry.Agent";

    private readonly Counter<long> _bytesServed;
    private readonly Counter<long> _bytesFromPeers;
    private readonly Counter<long> _bytesFromOrigins;
    private readonly Counter<long> _cacheHits;
    private readonly Counter<long> _cacheMisses;
    private readonly UpDownCounter<long> _activeDownloads;
    private readonly Counter<long> _fastMisses;
    private readonly Counter<long> _manifestsServed;
    private readonly Counter<long> _streamsStalled;
    private readonly Counter<long> _cacheCorrupt;
    private readonly Counter<long> _diskFull;

    public AgentMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _bytesServed = meter.CreateCounter<long>("p2pregistry.agent.bytes_served", "By", "Blob bytes sent to registry clients.");
        _bytesFromPeers = meter.CreateCounter<long>("p2pregistry.agent.bytes_from_peers", "By", "Blob bytes of finished downloads that came from other agents.");
        _bytesFromOrigins = meter.CreateCounter<long>("p2pregistry.agent.bytes_from_origins", "By", "Blob bytes of finished downloads that came from origins.");
        _cacheHits = meter.CreateCounter<long>("p2pregistry.agent.cache_hits", "{request}", "Blob requests served from the cache.");
        _cacheMisses = meter.CreateCounter<long>("p2pregistry.agent.cache_misses", "{request}", "Blob requests that needed the swarm.");
        _activeDownloads = meter.CreateUpDownCounter<long>("p2pregistry.agent.active_downloads", "{blob}", "Blobs being downloaded from the swarm.");
        _fastMisses = meter.CreateCounter<long>("p2pregistry.agent.fast_misses", "{request}", "Requests answered 404/503 at once because the agent could not serve them.");
        _manifestsServed = meter.CreateCounter<long>("p2pregistry.agent.manifests_served", "{request}", "Manifest requests answered.");
        _streamsStalled = meter.CreateCounter<long>("p2pregistry.agent.streams_stalled", "{request}", "Blob responses cut because no byte reached the client for Agent:StreamStallTimeout.");
        _diskFull = meter.CreateCounter<long>("p2pregistry.agent.disk_full", "{write}", "Writes that failed because the data folder's file system was full (ENOSPC/EDQUOT), by path (download, metainfo, cache, manifest); the request became a fast miss, or the manifest was served without being cached.");
        _cacheCorrupt = meter.CreateCounter<long>("p2pregistry.agent.cache_corrupt", "{blob}", "Cached blobs found corrupt on disk after a restart (a piece's SHA-1 or the blob's sha256 did not match): removed and fetched again.");
    }

    public void BytesServed(long bytes) => _bytesServed.Add(bytes);

    public void DownloadFinished(long fromPeers, long fromOrigins)
    {
        _bytesFromPeers.Add(fromPeers);
        _bytesFromOrigins.Add(fromOrigins);
    }

    public void CacheHit() => _cacheHits.Add(1);

    public void CacheMiss() => _cacheMisses.Add(1);

    public void DownloadStarted() => _activeDownloads.Add(1);

    public void DownloadEnded() => _activeDownloads.Add(-1);

    public void FastMiss(string kind) => _fastMisses.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void ManifestServed() => _manifestsServed.Add(1);

    public void StreamStalled() => _streamsStalled.Add(1);

    public void CacheCorrupt() => _cacheCorrupt.Add(1);

    public void DiskFull(string path) => _diskFull.Add(1, new KeyValuePair<string, object?>("path", path));
}

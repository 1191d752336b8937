namespace P2PRegistry.Tracker;

/// <summary>The tracker's settings, section <c>Tracker</c> (e.g. <c>--Tracker:OriginUrl=http://127.0.0.1:5000</c>).</summary>
internal sealed class TrackerOptions
{
    public const string SectionName = "Tracker";

    /// <summary>The gRPC endpoint, HTTP/2 without TLS (h2c), which on cleartext cannot share a port with HTTP/1.1.</summary>
    public string GrpcUrl { get; set; } = "http://127.0.0.1:7001";

    /// <summary>The HTTP/1.1 endpoint: BEP 3 <c>/announce</c>, <c>.torrent</c> files, health and metrics.</summary>
    public string HttpUrl { get; set; } = "http://127.0.0.1:7000";

    /// <summary>Where blobs' metainfo comes from: <c>GET &lt;OriginUrl&gt;/p2p/v1/metainfo/&lt;digest&gt;</c>.</summary>
    public string OriginUrl { get; set; } = "http://127.0.0.1:5000";

    /// <summary>
    /// A cluster of origins: the same base URLs, spelled the same, as the origins' <c>Origin:Cluster:Members</c>. A blob's
    /// metainfo comes from its owners (rendezvous order over these URLs, the next on failure) and each owner's peer
    /// endpoint is handed out as an ORIGIN seed. Empty = the single <see cref="OriginUrl"/>.
    /// </summary>
    public List<string> OriginUrls { get; set; } = [];

    /// <summary>With <see cref="OriginUrls"/>: how many origins hold each blob (the origins' <c>Origin:Cluster:ReplicationFactor</c>).</summary>
    public int OriginReplicationFactor { get; set; } = 2;

    /// <summary>TLS of both listeners (https URLs), mutual TLS, and the CA bundle the origin's certificate is verified against.</summary>
    public P2PRegistry.Hosting.Security.TlsOptions Tls { get; set; } = new();

    /// <summary>How long one metainfo request to the origin may take (connecting included).</summary>
    public TimeSpan OriginTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The announce URL written into <c>.torrent</c> files; empty = this request's scheme and host + <c>/announce</c>.</summary>
    public string? AnnounceUrl { get; set; }

    /// <summary>The most peers one announce gets back (an asker's <c>num_want</c> can only lower it).</summary>
    public int MaxPeersHandedOut { get; set; } = 50;

    /// <summary>
    /// Whether a handout puts peers in the asker's rack first, then its zone, then the others (labels from the agents'
    /// <c>Agent:Zone</c> / <c>Agent:Rack</c>). Off: every agent is equal, as for peers that send no labels.
    /// </summary>
    public bool Locality { get; set; } = true;

    /// <summary>
    /// With <see cref="Locality"/>: the share (0..1) of a handout kept for peers outside the asker's zone, at least one
    /// when any exist, so every zone's swarm stays connected to the others and data reaches every zone. 0 = none kept.
    /// </summary>
    public double RemoteShare { get; set; } = Handout.HandoutSettings.DefaultRemoteShare;

    /// <summary>
    /// With <see cref="Locality"/>: the zone the origin (<see cref="OriginUrl"/>'s peer) sits in; empty = unknown. When
    /// set, an agent of another zone whose handout already holds an agent of the origin's zone does not get the origin
    /// too: its zone's data crosses through those bridges, not once more per agent from the origin.
    /// </summary>
    public string OriginZone { get; set; } = string.Empty;

    /// <summary>How often a downloading peer announces: short, so it learns of new peers quickly.</summary>
    public TimeSpan DownloadingInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often a seed announces: long, it only has to stay listed.</summary>
    public TimeSpan SeedingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The shortest interval a peer may announce at.</summary>
    public TimeSpan MinInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A peer not seen for this long is dropped; unset = 3 × <see cref="SeedingInterval"/>.</summary>
    public TimeSpan? PeerTtl { get; set; }

    /// <summary>How often swarms nobody announces to are swept for expired peers.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    public int MaxSwarms { get; set; } = 100_000;

    public int MaxPeersPerSwarm { get; set; } = 10_000;

    /// <summary>Total encoded size of the cached metainfo (about 20 bytes a piece).</summary>
    public long MetaInfoCacheBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Peers across all swarms; an announce that would add one more is refused.</summary>
    public int MaxPeers { get; set; } = 1_000_000;

    /// <summary>Peers one address may hold across all swarms (every swarm an address keeps alive holds one of them).</summary>
    public int MaxPeersPerAddress { get; set; } = 10_000;

    /// <summary>Peers one address may hold in one swarm, so a single host cannot fill a swarm with made-up peer ids.</summary>
    public int MaxPeersPerAddressPerSwarm { get; set; } = 4;

    /// <summary>Whether loopback sources (processes on the tracker's own host) are exempt from the per-address quotas.</summary>
    public bool LoopbackQuotaExempt { get; set; } = true;

    /// <summary>
    /// Networks (CIDR, e.g. <c>10.0.0.0/8</c>) whose announces may name another address in <c>ip</c> (BEP 3) or the
    /// gRPC <c>ip</c> field: proxies and NAT gateways the operator runs. From anywhere else an <c>ip</c> that differs
    /// from the connection's source address is refused.
    /// </summary>
    public List<string> TrustedProxyNetworks { get; set; } = [];

    /// <summary>
    /// Networks (CIDR) whose announces may claim the origin role without a client certificate. With mutual TLS an
    /// origin is known by its certificate (URI SAN <c>urn:p2pregistry:role:origin</c>) instead.
    /// </summary>
    public List<string> OriginNetworks { get; set; } = [];

    /// <summary>Info hashes remembered as belonging to a blob the origin holds (about 100 bytes each), least recently used forgotten first.</summary>
    public int MaxKnownInfoHashes { get; set; } = 200_000;

    /// <summary>Where peers are kept: <c>Memory</c> (this process only) or <c>Redis</c> (shared by every tracker replica; <see cref="Redis"/>).</summary>
    public string PeerStore { get; set; } = MemoryPeerStore;

    /// <summary>The Redis of <c>Tracker:PeerStore=Redis</c>.</summary>
    public TrackerRedisOptions Redis { get; set; } = new();

    public const string MemoryPeerStore = "Memory";

    public const string RedisPeerStore = "Redis";

    public bool UsesRedis => string.Equals(PeerStore, RedisPeerStore, StringComparison.OrdinalIgnoreCase);

    public TimeSpan EffectivePeerTtl => PeerTtl ?? (3 * SeedingInterval);
}

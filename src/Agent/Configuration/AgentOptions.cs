namespace P2PRegistry.Agent.Configuration;

/// <summary>Settings of the agent (section <c>Agent</c>); the swarm's own settings are in section <c>Swarm</c>.</summary>
public sealed class AgentOptions
{
    public const string SectionName = "Agent";
    public const string DefaultRegistryUrl = "http://127.0.0.1:5050";

    /// <summary>Where containerd reaches the mirror. Node-local by default.</summary>
    public string RegistryUrl { get; set; } = DefaultRegistryUrl;

    /// <summary>The address the peer port binds to (other agents dial it).</summary>
    public string PeerAddress { get; set; } = "127.0.0.1";

    /// <summary>The BitTorrent peer port; 0 picks a free one.</summary>
    public int PeerPort { get; set; } = 6881;

    /// <summary>The tracker's gRPC endpoint (GetMetaInfo, Announce).</summary>
    public string TrackerUrl { get; set; } = "http://127.0.0.1:7001";

    /// <summary>The origin registry: manifests are resolved there.</summary>
    public string OriginUrl { get; set; } = "http://127.0.0.1:5000";

    /// <summary>
    /// A cluster of origins (their base URLs): manifests and origin blob reads go to one of them, the next on failure.
    /// Empty = the single <see cref="OriginUrl"/>.
    /// </summary>
    public List<string> OriginUrls { get; set; } = [];

    /// <summary>
    /// TLS of the registry API (an https <see cref="RegistryUrl"/>), and of the agent's clients: the origin's and the
    /// tracker's certificates are verified against <c>Agent:Tls:CaPath</c>; <c>ClientCertificatePath</c> is presented to them.
    /// </summary>
    public P2PRegistry.Hosting.Security.TlsOptions Tls { get; set; } = new();

    /// <summary>Holds <c>cache/</c> (complete, verified blobs), <c>download/</c> (partial blobs) and <c>manifests/</c>.</summary>
    public string DataPath { get; set; } = "data";

    public long CacheCapacityBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    public double CacheHighWatermark { get; set; } = 0.9;

    public double CacheLowWatermark { get; set; } = 0.7;

    /// <summary>Download rate limit in bytes per second (0 = unlimited); sets <c>Swarm:IngressBytesPerSecond</c>.</summary>
    public long IngressBytesPerSecond { get; set; }

    /// <summary>Upload rate limit in bytes per second (0 = unlimited); sets <c>Swarm:EgressBytesPerSecond</c>.</summary>
    public long EgressBytesPerSecond { get; set; }

    /// <summary>The upstream registry of requests without <c>?ns=</c> (docker's classic mirror, most tools).</summary>
    public string DefaultRegistry { get; set; } = "docker.io";

    /// <summary>
    /// How long a miss may take to find a MetaInfo and a first piece source (or an origin to answer for a
    /// manifest) before the agent answers 404, so containerd moves on to the next host instead of hanging.
    /// </summary>
    public TimeSpan MissTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a reader waits for a first connected peer when the tracker did hand out peers (connections under way),
    /// counted from the request; without any peer handed out the miss timeout applies (and it is never shorter than that).
    /// </summary>
    public TimeSpan SourceTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A partial download untouched this long is removed at start (a recent one is resumed when its blob is asked for again).</summary>
    public TimeSpan PartialDownloadRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// After a start, hash every cached blob (sha256) in the background, one after another, so each is served with no
    /// check once it matched and a corrupt one is removed before anyone asks for it. Off: each piece is still checked on
    /// its first read (over HTTP and by the seed) before it is sent.
    /// </summary>
    public bool VerifyCacheInBackground { get; set; } = true;

    /// <summary>A manifest request to the origin that connected but does not finish in this time fails.</summary>
    public TimeSpan OriginTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Pieces a streaming reader still lacks, from its position on, that the swarm fetches first. Wide enough that a
    /// reader keeps up with a busy swarm download (measured: 8 left the stream a quarter of the blob behind at the end
    /// with 12 agents pulling at once), narrow enough that rarest-first still spreads the other pieces.
    /// </summary>
    public int StreamPriorityPieces { get; set; } = 32;

    /// <summary>
    /// A client stream of a blob the agent is still fetching that writes no byte to the client for this long is cut
    /// (the connection aborted), so containerd retries instead of waiting on a source that stopped sending.
    /// </summary>
    public TimeSpan StreamStallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public string CachePath => Path.Combine(DataPath, "cache");

    public string DownloadPath => Path.Combine(DataPath, "download");

    public string ManifestPath => Path.Combine(DataPath, "manifests");

    /// <summary>One message per problem, each naming the key and the value.</summary>
    public IEnumerable<string> Validate()
    {
        foreach (var (key, value) in new[] { (nameof(RegistryUrl), RegistryUrl), (nameof(TrackerUrl), TrackerUrl), (nameof(OriginUrl), OriginUrl) })
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return $"{SectionName}:{key} must be an absolute http(s) URL, got '{value}'.";
            }
        }

        for (var i = 0; i < OriginUrls.Count; i++)
        {
            if (!Uri.TryCreate(OriginUrls[i], UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return $"{SectionName}:OriginUrls:{i} must be an absolute http(s) URL, got '{OriginUrls[i]}'.";
            }
        }

        if (OriginUrls.Select(u => u.TrimEnd('/')).Distinct(StringComparer.Ordinal).Count() != OriginUrls.Count)
        {
            yield return $"{SectionName}:OriginUrls lists an origin twice.";
        }

        if (Uri.TryCreate(RegistryUrl, UriKind.Absolute, out var registry) && !System.Net.IPAddress.TryParse(registry.Host.Trim('[', ']'), out _))
        {
            yield return $"{SectionName}:RegistryUrl must name an IP address to listen on (e.g. http://127.0.0.1:5050), got '{RegistryUrl}'.";
        }

        foreach (var error in Tls.Validate($"{SectionName}:Tls").Concat(Tls.ValidateListeners($"{SectionName}:Tls", [($"{SectionName}:RegistryUrl", RegistryUrl)])))
        {
            yield return error;
        }

        if (RegistryUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && !Tls.HasServerCertificate)
        {
            yield return $"{SectionName}:RegistryUrl '{RegistryUrl}' is https: set {SectionName}:Tls:CertificatePath and {SectionName}:Tls:KeyPath.";
        }

        if (!System.Net.IPAddress.TryParse(PeerAddress, out _))
        {
            yield return $"{SectionName}:PeerAddress must be an IP address, got '{PeerAddress}'.";
        }

        if (PeerPort is < 0 or > 65535)
        {
            yield return $"{SectionName}:PeerPort must be 0…65535, got {PeerPort}.";
        }

        if (string.IsNullOrWhiteSpace(DataPath))
        {
            yield return $"{SectionName}:DataPath must name a folder.";
        }

        if (CacheCapacityBytes < 1)
        {
            yield return $"{SectionName}:CacheCapacityBytes must be positive, got {CacheCapacityBytes}.";
        }

        if (!(CacheLowWatermark > 0 && CacheLowWatermark <= CacheHighWatermark && CacheHighWatermark <= 1))
        {
            yield return $"{SectionName}:CacheLowWatermark ({CacheLowWatermark}) and CacheHighWatermark ({CacheHighWatermark}) must satisfy 0 < low ≤ high ≤ 1.";
        }

        if (IngressBytesPerSecond < 0 || EgressBytesPerSecond < 0)
        {
            yield return $"{SectionName}:IngressBytesPerSecond and EgressBytesPerSecond must be 0 (unlimited) or positive.";
        }

        if (string.IsNullOrWhiteSpace(DefaultRegistry) || DefaultRegistry.Contains('/', StringComparison.Ordinal))
        {
            yield return $"{SectionName}:DefaultRegistry must be a registry host[:port] such as docker.io, got '{DefaultRegistry}'.";
        }

        if (MissTimeout <= TimeSpan.Zero || MissTimeout > TimeSpan.FromSeconds(30))
        {
            yield return $"{SectionName}:MissTimeout must be positive and at most 30 s (containerd waits on it), got {MissTimeout}.";
        }

        if (PartialDownloadRetention < TimeSpan.Zero)
        {
            yield return $"{SectionName}:PartialDownloadRetention must not be negative, got {PartialDownloadRetention}.";
        }

        if (SourceTimeout <= TimeSpan.Zero || SourceTimeout > TimeSpan.FromSeconds(60))
        {
            yield return $"{SectionName}:SourceTimeout must be positive and at most 60 s, got {SourceTimeout}.";
        }

        if (OriginTimeout <= TimeSpan.Zero)
        {
            yield return $"{SectionName}:OriginTimeout must be positive, got {OriginTimeout}.";
        }

        if (StreamStallTimeout <= TimeSpan.Zero)
        {
            yield return $"{SectionName}:StreamStallTimeout must be positive, got {StreamStallTimeout}.";
        }

        if (StreamPriorityPieces < 1)
        {
            yield return $"{SectionName}:StreamPriorityPieces must be at least 1, got {StreamPriorityPieces}.";
        }
    }
}

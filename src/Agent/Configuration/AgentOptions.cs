using P2PRegistry.Core.Placement;

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

    /// <summary>The tracker's gRPC endpoint (GetMetaInfo, Announce), when there is one; <see cref="TrackerUrls"/> takes precedence.</summary>
    public string TrackerUrl { get; set; } = "http://127.0.0.1:7001";

    /// <summary>
    /// Several trackers' gRPC endpoints. When it lists any, it replaces <see cref="TrackerUrl"/>. Each blob's tracker is
    /// chosen by rendezvous hashing, with failover to the next; every agent should list the same URLs. Reloaded from
    /// <see cref="SettingsFile"/> when that file changes.
    /// </summary>
    public List<string> TrackerUrls { get; set; } = [];

    /// <summary>
    /// A JSON settings file (the same keys as the command line, e.g. <c>{"Agent":{"TrackerUrls":[…]}}</c>), read at the
    /// start below the environment and the command line, and watched: a changed tracker list takes effect without a
    /// restart (other settings need one).
    /// </summary>
    public string? SettingsFile { get; set; }

    /// <summary>The most trackers one agent takes.</summary>
    public const int MaxTrackers = 64;

    /// <summary>The trackers in use: <see cref="TrackerUrls"/> when it lists any, else <see cref="TrackerUrl"/>.</summary>
    public IReadOnlyList<string> EffectiveTrackerUrls => TrackerUrls.Count > 0 ? TrackerUrls : [TrackerUrl];

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

    /// <summary>
    /// 0 (the default): the agent's disk is bounded by its file system only (<see cref="Gc"/>). Set: the agent's own
    /// usage (everything under <see cref="DataPath"/>) is also kept under <c>Agent:Gc:HighThresholdPercent</c> of this,
    /// and a blob larger than this is refused up front.
    /// </summary>
    public long CacheCapacityBytes { get; set; }

    /// <summary>No longer read: replaced by <c>Agent:Gc:HighThresholdPercent</c>; set, it is a start-up error.</summary>
    public double? CacheHighWatermark { get; set; }

    /// <summary>No longer read: replaced by <c>Agent:Gc:LowThresholdPercent</c>; set, it is a start-up error.</summary>
    public double? CacheLowWatermark { get; set; }

    /// <summary>Disk garbage collection (section <c>Agent:Gc</c>).</summary>
    public AgentGcOptions Gc { get; set; } = new();

    /// <summary>Download rate limit in bytes per second (0 = unlimited); sets <c>Swarm:IngressBytesPerSecond</c>.</summary>
    public long IngressBytesPerSecond { get; set; }

    /// <summary>Upload rate limit in bytes per second (0 = unlimited); sets <c>Swarm:EgressBytesPerSecond</c>.</summary>
    public long EgressBytesPerSecond { get; set; }

    /// <summary>The upstream registry of requests without <c>?ns=</c> (docker's classic mirror, most tools).</summary>
    public string DefaultRegistry { get; set; } = "docker.io";

    /// <summary>
    /// How soon a blob miss with no source is a 404, so containerd moves on to its next host: the tracker answered with
    /// no peer, or no tracker is reachable to say (Registry/MissRule.cs). Also the connect timeout of the tracker and
    /// origin clients.
    /// </summary>
    public TimeSpan MissTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a blob miss waits for a source that exists but is slow, per phase: a reachable tracker's MetaInfo answer
    /// (from the request), then a first connected peer when the tracker handed out peers or its announce answer is on
    /// the way (from the download's start). Never shorter than <see cref="MissTimeout"/>.
    /// </summary>
    public TimeSpan SourceTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most the start-up warm-up may take (opening the origin clients' connections, a first request through the
    /// registry API) before the agent can be ready; readiness also waits for a tracker to answer.
    /// </summary>
    public TimeSpan StartupWarmupTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A partial download untouched this long is removed, at start and by the collector while running (a recent one is
    /// resumed when its blob is asked for again).
    /// </summary>
    public TimeSpan PartialDownloadRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// A cached blob's swarm with no upload or download for this long is closed (its connections drop, its file closes);
    /// the blob stays announced to the tracker as seeded, and a peer's handshake reopens it. Open files and memory then
    /// follow the blobs in use, not the size of the cache.
    /// </summary>
    public TimeSpan IdleSeedTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// With no blob download in progress for this long, the agent gives memory back to the node once (a full, compacting
    /// collection), until the next download; zero: never.
    /// </summary>
    public TimeSpan IdleTrimAfter { get; set; } = TimeSpan.FromSeconds(90);

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
    /// A <c>Range</c> request on a blob not in the cache fetches the pieces covering the range and this many bytes past
    /// its end (rounded up to whole pieces, never past the blob's end): a reader of a lazily pulled image usually reads
    /// on, and the next request then finds its pieces here. 4 MiB: one round trip's worth of a few pieces.
    /// </summary>
    public long RangeReadAhead { get; set; } = 4L * 1024 * 1024;

    /// <summary>The largest <see cref="RangeReadAhead"/> accepted (each range request may make the agent fetch that much more).</summary>
    public const long MaxRangeReadAhead = 256L * 1024 * 1024;

    /// <summary>
    /// Whether a <c>Range</c> request on a blob not in the cache also fetches the rest of the blob in the background.
    /// Off by default: a lazy reader reads a small part of an image (the Slacker paper: 6.4 % of its bytes), and the
    /// rest would cost its sources' uplinks and this node's disk for nothing; a later whole <c>GET</c> fetches what is
    /// missing, reusing the pieces already here. On: the range is served as soon as its pieces verify and the blob then
    /// completes and enters the cache, for nodes that will read all of it anyway.
    /// </summary>
    public bool RangeContinuesDownload { get; set; }

    /// <summary>
    /// A download of byte ranges (<see cref="RangeContinuesDownload"/> off) that no client reads for this long is
    /// stopped; its verified pieces stay on disk (with its resume file) for the next request.
    /// </summary>
    public TimeSpan RangeIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest <see cref="RangeIdleTimeout"/> (well inside what a timer can wait).</summary>
    public static readonly TimeSpan MaxRangeIdleTimeout = TimeSpan.FromHours(1);

    /// <summary>
    /// The most downloads of byte ranges open at once. One more stops the one idle longest; when every one is being read,
    /// the request is a fast 404 (containerd then asks its next host).
    /// </summary>
    public int MaxRangeDownloads { get; set; } = 16;

    /// <summary>
    /// A client stream of a blob the agent is still fetching that writes no byte to the client for this long, while the
    /// download stores nothing either, is cut (the connection aborted), so containerd retries instead of waiting on a
    /// source that stopped sending.
    /// </summary>
    public TimeSpan StreamStallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The zone this node sits in (e.g. its <c>topology.kubernetes.io/zone</c> label), sent with every announce: the
    /// tracker hands out peers of the same rack, then the same zone, first. Empty = unknown (treated as remote by all).
    /// At most 63 characters of <c>[A-Za-z0-9._-]</c>, beginning and ending with a letter or digit.
    /// </summary>
    public string Zone { get; set; } = string.Empty;

    /// <summary>The rack (or switch) inside <see cref="Zone"/>, same syntax; only meaningful with a zone.</summary>
    public string Rack { get; set; } = string.Empty;

    public string CachePath => Path.Combine(DataPath, "cache");

    public string DownloadPath => Path.Combine(DataPath, "download");

    public string ManifestPath => Path.Combine(DataPath, "manifests");

    public string MetaInfoPath => Path.Combine(DataPath, "metainfo");

    /// <summary>The problems of a tracker list (at start and on every reload): each an absolute http(s) URL, no two the same tracker.</summary>
    public static IEnumerable<string> ValidateTrackerUrls(IReadOnlyList<string?> urls)
    {
        if (urls.Count > MaxTrackers)
        {
            yield return $"{SectionName}:TrackerUrls lists {urls.Count} trackers; at most {MaxTrackers}.";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < urls.Count; i++)
        {
            var url = urls[i];
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
            {
                yield return $"{SectionName}:TrackerUrls:{i} must be an absolute http(s) URL with no path, e.g. http://tracker-0.tracker:7001, got '{url}'.";
            }
            else if (!seen.Add(uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant()))
            {
                yield return $"{SectionName}:TrackerUrls:{i} '{url}' names a tracker listed before it.";
            }
        }
    }

    /// <summary>One message per problem, each naming the key and the value.</summary>
    public IEnumerable<string> Validate()
    {
        foreach (var error in ValidateTrackerUrls(TrackerUrls))
        {
            yield return error;
        }

        if (SettingsFile is { Length: > 0 } && !File.Exists(SettingsFile))
        {
            yield return $"{SectionName}:SettingsFile '{SettingsFile}' does not exist.";
        }

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

        if (OriginUrls.Select(u => P2PRegistry.Core.Placement.RendezvousRing.TryNodeId(u, out var id) ? id : u).Distinct(StringComparer.Ordinal).Count() != OriginUrls.Count)
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

        if (CacheCapacityBytes < 0)
        {
            yield return $"{SectionName}:CacheCapacityBytes must be 0 (bounded by the file system only) or positive, got {CacheCapacityBytes}.";
        }

        foreach (var (key, value, replacement) in new[] { (nameof(CacheHighWatermark), CacheHighWatermark, nameof(AgentGcOptions.HighThresholdPercent)), (nameof(CacheLowWatermark), CacheLowWatermark, nameof(AgentGcOptions.LowThresholdPercent)) })
        {
            if (value is not null)
            {
                yield return $"{SectionName}:{key} ({value}) is no longer read: set {SectionName}:{AgentGcOptions.SectionName}:{replacement}, a percent of {SectionName}:CacheCapacityBytes when that is set and of the file system holding {SectionName}:DataPath always.";
            }
        }

        foreach (var error in Gc.Validate($"{SectionName}:{AgentGcOptions.SectionName}"))
        {
            yield return error;
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

        if (IdleSeedTimeout < TimeSpan.FromSeconds(1))
        {
            yield return $"{SectionName}:IdleSeedTimeout must be at least 1 s, got {IdleSeedTimeout}.";
        }

        if (IdleTrimAfter != TimeSpan.Zero && (IdleTrimAfter < TimeSpan.FromSeconds(1) || IdleTrimAfter > TimeSpan.FromHours(24)))
        {
            yield return $"{SectionName}:IdleTrimAfter must be 0 (never) or between 1 s and 24 h, got {IdleTrimAfter}.";
        }

        if (PartialDownloadRetention < TimeSpan.Zero)
        {
            yield return $"{SectionName}:PartialDownloadRetention must not be negative, got {PartialDownloadRetention}.";
        }

        if (SourceTimeout <= TimeSpan.Zero || SourceTimeout > TimeSpan.FromSeconds(60))
        {
            yield return $"{SectionName}:SourceTimeout must be positive and at most 60 s, got {SourceTimeout}.";
        }

        if (StartupWarmupTimeout <= TimeSpan.Zero || StartupWarmupTimeout > TimeSpan.FromSeconds(60))
        {
            yield return $"{SectionName}:StartupWarmupTimeout must be positive and at most 60 s, got {StartupWarmupTimeout}.";
        }

        if (OriginTimeout <= TimeSpan.Zero)
        {
            yield return $"{SectionName}:OriginTimeout must be positive, got {OriginTimeout}.";
        }

        if (StreamStallTimeout <= TimeSpan.Zero)
        {
            yield return $"{SectionName}:StreamStallTimeout must be positive, got {StreamStallTimeout}.";
        }

        if (TopologyLabel.Problem(Zone) is { } zoneProblem)
        {
            yield return $"{SectionName}:Zone '{Zone}' {zoneProblem}.";
        }

        if (TopologyLabel.Problem(Rack) is { } rackProblem)
        {
            yield return $"{SectionName}:Rack '{Rack}' {rackProblem}.";
        }

        if (!string.IsNullOrEmpty(Rack) && string.IsNullOrEmpty(Zone))
        {
            yield return $"{SectionName}:Rack '{Rack}' needs {SectionName}:Zone: a rack is only known inside its zone.";
        }

        if (RangeReadAhead < 0 || RangeReadAhead > MaxRangeReadAhead)
        {
            yield return $"{SectionName}:RangeReadAhead must be 0…{MaxRangeReadAhead} bytes, got {RangeReadAhead}.";
        }

        if (RangeIdleTimeout <= TimeSpan.Zero || RangeIdleTimeout > MaxRangeIdleTimeout)
        {
            yield return $"{SectionName}:RangeIdleTimeout must be positive and at most {MaxRangeIdleTimeout}, got {RangeIdleTimeout}.";
        }

        if (MaxRangeDownloads is < 1 or > 1024)
        {
            yield return $"{SectionName}:MaxRangeDownloads must be 1…1024, got {MaxRangeDownloads}.";
        }

        if (StreamPriorityPieces < 1)
        {
            yield return $"{SectionName}:StreamPriorityPieces must be at least 1, got {StreamPriorityPieces}.";
        }
    }
}

namespace P2PRegistry.Origin.Configuration;

/// <summary>Settings of the origin, bound from the <c>Origin</c> section and validated at start.</summary>
public sealed class OriginOptions
{
    public const string SectionName = "Origin";

    /// <summary>Root of the content-addressed store; created if missing, must be writable.</summary>
    public string StoragePath { get; set; } = Path.Combine(".data", "origin");

    /// <summary>Largest manifest accepted on PUT (the OCI spec asks registries to accept at least 4 MB).</summary>
    public long MaxManifestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest blob accepted in one upload.</summary>
    public long MaxUploadBytes { get; set; } = 64L * 1024 * 1024 * 1024;

    /// <summary>An upload session idle this long is removed with its partial data.</summary>
    public TimeSpan UploadExpiry { get; set; } = TimeSpan.FromHours(1);

    public PushOptions Push { get; set; } = new();

    /// <summary>
    /// The names (host[:port]) clients use for this origin, compared with a request's <c>ns</c>: only a request
    /// without <c>ns</c> or with one of these is answered from pushed repositories. Empty = the request's own
    /// <c>Host</c> header (the host:port the client dialled), which is what an agent sends next to the <c>ns</c>
    /// containerd gave it when both name the origin the same way.
    /// </summary>
    public List<string> RegistryNames { get; set; } = [];
    /// <summary>TLS of the registry API and the metainfo endpoint (https in <c>--urls</c>), and mutual TLS.</summary>
    public P2PRegistry.Hosting.Security.TlsOptions Tls { get; set; } = new();

    /// <summary>A cluster of origins holding each blob on R of them (<c>Origin:Cluster</c>); empty = a single origin.</summary>
    public P2PRegistry.Origin.Cluster.ClusterOptions Cluster { get; set; } = new();

    /// <summary>The BitTorrent peer port from which the origin seeds every blob it holds.</summary>
    public Seeding.PeerOptions Peer { get; set; } = new();

    /// <summary>
    /// Registries pulled through on a miss, chosen by the request's <c>ns</c>. <c>docker.io</c> →
    /// <c>https://registry-1.docker.io</c> is present unless an item named <c>docker.io</c> overrides it.
    /// </summary>
    public List<UpstreamOptions> Upstreams { get; set; } = [];

    /// <summary>The built-in <c>docker.io</c> upstream: <c>Origin:DockerHub:Enabled=false</c> removes it (unless listed in Upstreams).</summary>
    public DockerHubOptions DockerHub { get; set; } = new();

    /// <summary>Blob fills from upstreams running at once; a request that would start one more waits <see cref="FillQueueTimeout"/>, then gets 503.</summary>
    public int MaxConcurrentFills { get; set; } = 32;

    /// <summary>How long a request waits for a free fill slot before it is answered 503 with <c>Retry-After</c>.</summary>
    public TimeSpan FillQueueTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An upstream's 404 for a manifest or blob is answered from memory this long (0 = off).</summary>
    public TimeSpan UpstreamNotFoundCacheTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Entries of that negative cache; the oldest are dropped beyond it.</summary>
    public int UpstreamNotFoundCacheEntries { get; set; } = 10_000;

    /// <summary>Upstream bearer tokens kept for reuse; beyond it the one expiring soonest is dropped.</summary>
    public int TokenCacheEntries { get; set; } = 1_000;

    /// <summary>A token is reused at most this long, whatever <c>expires_in</c> its issuer claims.</summary>
    public TimeSpan TokenCacheMaxLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Upload sessions open at once (single-request uploads included); more are answered 429.</summary>
    public int MaxUploadSessions { get; set; } = 1_000;

    /// <summary>Upload sessions open at once from one client address; more are answered 429.</summary>
    public int MaxUploadSessionsPerClient { get; set; } = 100;

    /// <summary>
    /// Bytes of unfinished uploads on disk, all sessions together. A body that would go past it is refused
    /// (429) before its bytes are written; the bytes are released when the upload completes, is cancelled or expires.
    /// </summary>
    public long MaxUploadBytesInFlight { get; set; } = 64L * 1024 * 1024 * 1024;

    /// <summary>The upstream (a registry name) of requests without <c>ns</c>; empty = such requests are served from local content only.</summary>
    public string? DefaultUpstream { get; set; }

    /// <summary>
    /// Limit on one upstream manifest or HEAD exchange (token fetch included), and on a blob fill's wait for the
    /// upstream's response headers. Well under the agent's 30 s manifest timeout, so its answer (or a 503) still
    /// reaches the agent.
    /// </summary>
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Limit on the revalidation HEAD of a tag that is cached already: past it the cached tag is served, so an
    /// upstream that accepts connections and then hangs costs a pull this long, not <see cref="UpstreamTimeout"/>.
    /// </summary>
    public TimeSpan RevalidationTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A blob fill whose upstream body sends no byte for this long fails (and the next request starts a fresh one).</summary>
    public TimeSpan UpstreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Limit on one blob fill from an upstream, start to verified; it runs on whether or not its requesters stay.</summary>
    public TimeSpan UpstreamFillTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Garbage collection of blobs no manifest references (<c>Origin:Gc</c>).</summary>
    public Collection.GcOptions Gc { get; set; } = new();

    /// <summary>
    /// Bytes of content pulled through from upstreams (not pushed) kept; past it, garbage collection evicts the least
    /// recently served pulled-through manifests and what only they reference. 0 = unlimited. Pushed content never counts.
    /// </summary>
    public long PullThroughCacheBytes { get; set; }
}

/// <summary>The built-in <c>docker.io</c> upstream.</summary>
public sealed class DockerHubOptions
{
    /// <summary>False removes the built-in <c>docker.io</c> → <c>https://registry-1.docker.io</c> upstream.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// Who may write (POST/PATCH/PUT/DELETE). Pushes need credentials unless <see cref="AllowAnonymous"/>; pulls stay
/// anonymous. Credential sources: the single <see cref="Username"/> (allowed everywhere) and the users of
/// <see cref="HtpasswdFile"/>, each allowed under the prefixes listed in <see cref="Users"/>.
/// </summary>
public sealed class PushOptions
{
    /// <summary>Anyone who reaches the origin may push anywhere (credentials are not asked for). For local demos.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>An htpasswd file of bcrypt entries (<c>htpasswd -B</c>, as docker-registry reads); read at start.</summary>
    public string? HtpasswdFile { get; set; }

    /// <summary>Per htpasswd user: the repository prefixes it may push to. A user without an entry may push nowhere.</summary>
    public Dictionary<string, PushUserOptions> Users { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Failed credential checks one client address may make per <see cref="FailureWindow"/> before it gets 429.</summary>
    public int MaxFailedAttempts { get; set; } = 10;

    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Client addresses (IPv6 by /64) whose failures are tracked at once; the oldest window is dropped past it.</summary>
    public int MaxTrackedClients { get; set; } = 10_000;

    /// <summary>The single push user of older configurations: allowed to push to every repository.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>A file whose content (trailing newline trimmed) is the password, e.g. a mounted secret.</summary>
    public string? PasswordFile { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(Username);

    /// <summary>Some credential can be checked: the single user or an htpasswd file.</summary>
    public bool HasCredentialSource => Enabled || !string.IsNullOrEmpty(HtpasswdFile);
}

/// <summary>One htpasswd user's push rights.</summary>
public sealed class PushUserOptions
{
    /// <summary>
    /// Repository prefixes, matched at path-component boundaries (<c>team/</c> covers <c>team/app</c>, never
    /// <c>teamster/app</c>); <c>*</c> covers every repository.
    /// </summary>
    public List<string> Prefixes { get; set; } = [];
}

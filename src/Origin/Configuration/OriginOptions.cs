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

    /// <summary>The BitTorrent peer port from which the origin seeds every blob it holds.</summary>
    public Seeding.PeerOptions Peer { get; set; } = new();

    /// <summary>
    /// Registries pulled through on a miss, chosen by the request's <c>ns</c>. <c>docker.io</c> →
    /// <c>https://registry-1.docker.io</c> is present unless an item named <c>docker.io</c> overrides it.
    /// </summary>
    public List<UpstreamOptions> Upstreams { get; set; } = [];

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

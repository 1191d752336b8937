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

    /// <summary>TLS of the registry API and the metainfo endpoint (https in <c>--urls</c>), and mutual TLS.</summary>
    public P2PRegistry.Hosting.Security.TlsOptions Tls { get; set; } = new();

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

/// <summary>Credentials that guard every writing request (POST/PATCH/PUT/DELETE); pulls stay anonymous.</summary>
public sealed class PushOptions
{
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>A file whose content (trailing newline trimmed) is the password, e.g. a mounted secret.</summary>
    public string? PasswordFile { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(Username);
}

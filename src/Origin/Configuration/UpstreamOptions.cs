namespace P2PRegistry.Origin.Configuration;

/// <summary>
/// One upstream registry (an item of the list <c>Origin:Upstreams</c>), e.g.
/// <c>--Origin:Upstreams:0:Name=ghcr.io --Origin:Upstreams:0:Url=https://ghcr.io</c>. A list rather than a map
/// keyed by the registry name: names hold '.' and ':', which configuration keys (':' is the separator;
/// environment variables use '__') cannot carry.
/// </summary>
public sealed class UpstreamOptions
{
    /// <summary>The registry name clients send as <c>ns</c>: <c>docker.io</c>, <c>ghcr.io</c>, <c>registry.example.com:5000</c>.</summary>
    public string? Name { get; set; }

    /// <summary>Where the registry API is, e.g. <c>https://registry-1.docker.io</c>.</summary>
    public string? Url { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>A file whose content (trailing newline trimmed) is the password, e.g. a mounted Kubernetes secret.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>Plain <c>http://</c> URLs are refused at start unless this is set (credentials and tokens would travel in clear).</summary>
    public bool AllowHttp { get; set; }

    /// <summary>
    /// Hosts (or <c>host:port</c>) besides the upstream's own host that may receive its credentials when a challenge
    /// names them as the token realm, e.g. <c>auth.docker.io</c>. A realm elsewhere gets an anonymous token request.
    /// </summary>
    public List<string> TokenRealms { get; set; } = [];

    /// <summary>Follow a redirect (e.g. a blob GET sent to a CDN) to a plain <c>http://</c> URL on another host.</summary>
    public bool AllowInsecureRedirects { get; set; }

    /// <summary>
    /// Connect to loopback, link-local, private (RFC 1918, ULA), CGNAT, unspecified or multicast addresses when a
    /// redirect or an untrusted token realm leads there; judged on the resolved address at connect time.
    /// </summary>
    public bool AllowPrivateRedirects { get; set; }
}

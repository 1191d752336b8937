namespace P2PRegistry.Origin.Upstream;

/// <summary>One upstream registry the origin pulls through from, selected by the name clients send as <c>ns</c>.</summary>
public sealed class UpstreamRegistry
{
    /// <summary>The registry name as clients know it, e.g. <c>docker.io</c>, <c>ghcr.io</c>, <c>registry.example.com:5000</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Where to reach it, e.g. <c>https://registry-1.docker.io</c>.</summary>
    public required Uri Url { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>Plain-http URLs allowed for this upstream (its <c>AllowHttp</c>): also decides whether an http token realm is used.</summary>
    public bool AllowHttp { get; init; }

    /// <summary>Hosts (<c>host</c> or <c>host:port</c>) besides <see cref="Url"/>'s host trusted with credentials as token realms.</summary>
    public IReadOnlyList<string> TokenRealms { get; init; } = [];

    /// <summary>Redirects to plain http on another host are followed.</summary>
    public bool AllowInsecureRedirects { get; init; }

    /// <summary>Redirects (and untrusted realms) may lead to loopback, link-local or private addresses.</summary>
    public bool AllowPrivateRedirects { get; init; }

    public bool HasCredentials => !string.IsNullOrEmpty(Username) && Password is not null;

    /// <summary>
    /// Whether <paramref name="url"/> is on a host trusted like the upstream itself: its own host (any port), or a
    /// <see cref="TokenRealms"/> entry (a bare host matches any port, <c>host:port</c> only that port).
    /// </summary>
    public bool IsTrustedHost(Uri url) => IsTrustedHost(url.IdnHost, url.Port);

    /// <inheritdoc cref="IsTrustedHost(Uri)"/>
    public bool IsTrustedHost(string host, int port)
    {
        host = host.Trim('[', ']');
        if (string.Equals(host, Url.IdnHost.Trim('[', ']'), StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var realm in TokenRealms)
        {
            var colon = realm.LastIndexOf(':');
            var hasPort = colon > 0 && !realm.EndsWith(']') && realm.IndexOf(':') == colon;
            var realmHost = (hasPort ? realm[..colon] : realm).Trim('[', ']');
            if (string.Equals(realmHost, host, StringComparison.OrdinalIgnoreCase)
                && (!hasPort || realm[(colon + 1)..] == port.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => $"{Name} ({Diagnostics.Redact.Url(Url)})";
}

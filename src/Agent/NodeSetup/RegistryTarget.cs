using System.Text.RegularExpressions;

namespace P2PRegistry.Agent.NodeSetup;

/// <summary>
/// One registry the node routes through the agent: the name containerd looks up in its hosts directory
/// (<c>host[:port]</c>, or <c>_default</c> for every registry without its own folder) and the real registry
/// containerd falls back to (<c>server</c>; none for <c>_default</c>, where containerd uses the registry the image
/// names).
/// </summary>
internal sealed partial record RegistryTarget(string Host, Uri? Server)
{
    public const string DefaultHost = "_default";

    /// <summary>
    /// Parses <c>docker.io</c>, <c>ghcr.io</c>, <c>registry.lab:5000</c> or <c>host=URL</c> (an explicit fallback
    /// server, e.g. <c>registry.lab:5000=http://registry.lab:5000</c>). Docker Hub's API lives at
    /// <c>registry-1.docker.io</c>; every other registry at <c>https://&lt;host&gt;</c>.
    /// </summary>
    public static bool TryParse(string value, out RegistryTarget? target, out string? error)
    {
        target = null;
        var separator = value.IndexOf('=', StringComparison.Ordinal);
        var host = separator < 0 ? value : value[..separator];
        if (host == DefaultHost)
        {
            error = $"'{DefaultHost}' is written unless --no-default is given; it takes no server.";
            return false;
        }

        if (host.Length > 255 || !HostPattern().IsMatch(host))
        {
            error = $"'{host}' is not a registry host[:port] (lower-case letters, digits, '-' and '.', an optional :port), e.g. docker.io or registry.lab:5000.";
            return false;
        }

        if (Port(host) is { } port && port is < 1 or > 65535)
        {
            error = $"'{host}' has a port outside 1…65535.";
            return false;
        }

        Uri server;
        if (separator < 0)
        {
            server = new Uri(host == "docker.io" ? "https://registry-1.docker.io" : $"https://{host}");
        }
        else if (!Uri.TryCreate(value[(separator + 1)..], UriKind.Absolute, out server!) || server.Scheme is not ("http" or "https")
                 || server.PathAndQuery != "/" || !string.IsNullOrEmpty(server.UserInfo))
        {
            error = $"'{value[(separator + 1)..]}' (the server of {host}) is not an http(s) URL of a host without a path, e.g. https://{host}.";
            return false;
        }

        target = new RegistryTarget(host, server);
        error = null;
        return true;
    }

    private static int? Port(string host)
    {
        var colon = host.LastIndexOf(':');
        return colon < 0 ? null : int.TryParse(host.AsSpan(colon + 1), out var port) ? port : -1;
    }

    // DNS labels (RFC 1123) joined by dots, an optional decimal port. Nothing that could leave the hosts
    // directory ('/', "..") or that containerd would not look up.
    [GeneratedRegex(@"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex HostPattern();
}

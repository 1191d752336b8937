namespace P2PRegistry.Origin.Registry;

/// <summary>
/// Which content answers a pull, from its <c>ns</c> (the registry the client's image reference names; containerd
/// sends it to mirrors, the agent passes it on). Pushed repositories answer only for this origin's own names, so a
/// push can never stand in for an upstream's image of the same name:
/// <list type="bullet">
/// <item>no <c>ns</c>: pushed content, then the default upstream (if any);</item>
/// <item><c>ns</c> = a configured upstream: only that upstream (its pulled-through content);</item>
/// <item><c>ns</c> = one of <c>Origin:RegistryNames</c> (when empty: the request's <c>Host</c>): pushed content only;</item>
/// <item>anything else: nothing (404 NAME_UNKNOWN, so containerd asks its next host).</item>
/// </list>
/// Registry names compare case-insensitively (they are DNS names).
/// </summary>
internal sealed class NamespaceRule
{
    private readonly HashSet<string> _registryNames;
    private readonly HashSet<string> _upstreams;
    private readonly string? _defaultUpstream;

    public NamespaceRule(IEnumerable<string> registryNames, IEnumerable<string> upstreams, string? defaultUpstream)
    {
        _registryNames = new HashSet<string>(registryNames.Where(n => !string.IsNullOrWhiteSpace(n)), StringComparer.OrdinalIgnoreCase);
        _upstreams = new HashSet<string>(upstreams, StringComparer.OrdinalIgnoreCase);
        _defaultUpstream = string.IsNullOrEmpty(defaultUpstream) ? null : defaultUpstream.ToLowerInvariant();
    }

    /// <param name="ns">The request's <c>ns</c> query value (null or empty when absent).</param>
    /// <param name="host">The request's <c>Host</c> header: the origin's name when no registry names are configured.</param>
    public NamespaceTarget Resolve(string? ns, string? host)
    {
        if (string.IsNullOrEmpty(ns))
        {
            return new NamespaceTarget(Local: true, _defaultUpstream);
        }

        if (_upstreams.Contains(ns))
        {
            return new NamespaceTarget(Local: false, ns.ToLowerInvariant());
        }

        var local = _registryNames.Count > 0
            ? _registryNames.Contains(ns)
            : !string.IsNullOrEmpty(host) && string.Equals(ns, host, StringComparison.OrdinalIgnoreCase);
        return local ? new NamespaceTarget(Local: true, null) : NamespaceTarget.Nowhere;
    }
}

/// <summary>Where a pull may be answered from: pushed repositories, and/or one upstream by name.</summary>
internal readonly record struct NamespaceTarget(bool Local, string? Upstream)
{
    public static NamespaceTarget Nowhere => new(false, null);

    public bool IsNowhere => !Local && Upstream is null;
}

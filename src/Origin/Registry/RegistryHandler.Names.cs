using P2PRegistry.Origin.Upstream;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Origin.Registry;

internal sealed partial class RegistryHandler
{
    /// <summary>
    /// The content a pull may be answered from (<see cref="NamespaceRule"/>); an <c>ns</c> that names neither this
    /// origin nor a configured upstream is refused as an unknown name.
    /// </summary>
    private NamespaceTarget TargetOf(HttpContext context, string name)
    {
        var ns = context.Request.Query["ns"].ToString();
        var target = _names.Resolve(ns, context.Request.Host.Value);
        if (target.IsNowhere)
        {
            throw new RegistryException(RegistryError.NameUnknown, "ns names neither this registry (Origin:RegistryNames) nor a configured upstream", Truncate(ns));
        }

        return target;
    }

    /// <summary>The client of the target's upstream and the local repository its content of <paramref name="name"/> is kept in; (null, null) when there is none.</summary>
    private (UpstreamClient? Client, string? LocalRepository) UpstreamOf(NamespaceTarget target, string name)
    {
        var client = target.Upstream is { } upstream ? _upstreams.Find(upstream) : null;
        return client is null ? (null, null) : (client, UpstreamCatalog.LocalRepository(client.Upstream.Name, name));
    }
}

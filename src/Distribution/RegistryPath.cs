namespace P2PRegistry.Distribution;

public enum RegistryRoute
{
    /// <summary><c>/v2/</c>: the API version check.</summary>
    Base,
    Manifest,
    Blob,
    TagsList,
    /// <summary><c>/v2/&lt;name&gt;/blobs/uploads/</c>: start an upload (or mount, or a single-request upload).</summary>
    UploadStart,
    /// <summary><c>/v2/&lt;name&gt;/blobs/uploads/&lt;id&gt;</c>: an upload session.</summary>
    Upload,
    /// <summary><c>/v2/&lt;name&gt;/referrers/&lt;digest&gt;</c>: manifests whose <c>subject</c> is that digest (OCI distribution 1.1).</summary>
    Referrers,
    /// <summary><c>/v2/_catalog</c>: the repositories (its own route: <c>_catalog</c> is no valid repository name).</summary>
    Catalog,
}

public enum RegistryPathStatus
{
    Ok,
    /// <summary>Not a registry route at all.</summary>
    NotFound,
    /// <summary>The route matched, but the repository name breaks the grammar.</summary>
    NameInvalid,
}

/// <summary>
/// A parsed registry URL path. Repository names contain <c>/</c>, so the path is parsed from the right:
/// <c>/v2/&lt;name&gt;/(manifests|blobs|referrers)/&lt;ref&gt;</c>, <c>/v2/&lt;name&gt;/tags/list</c>,
/// <c>/v2/&lt;name&gt;/blobs/uploads/[&lt;id&gt;]</c>, and <c>/v2/_catalog</c>.
/// </summary>
/// <remarks>
/// Parse the raw request target (before the server resolves dot segments or decodes escapes), so that
/// <c>a/../b</c> and <c>%2e%2e</c> reach the name check and are refused instead of silently rewritten.
/// A valid name never holds <c>%</c>; the reference (tag, digest, upload id) is percent-decoded because
/// some clients escape the digest's <c>:</c>.
/// </remarks>
public readonly record struct RegistryPath(RegistryRoute Route, string Name, string Reference)
{
    private const string Prefix = "/v2";

    public static RegistryPathStatus TryParse(string rawPath, out RegistryPath path)
    {
        path = default;
        var query = rawPath.IndexOfAny(['?', '#']);
        var text = query >= 0 ? rawPath[..query] : rawPath;

        if (text is Prefix or Prefix + "/")
        {
            path = new RegistryPath(RegistryRoute.Base, "", "");
            return RegistryPathStatus.Ok;
        }

        if (text == Prefix + "/_catalog")
        {
            path = new RegistryPath(RegistryRoute.Catalog, "", "");
            return RegistryPathStatus.Ok;
        }

        if (!text.StartsWith(Prefix + "/", StringComparison.Ordinal))
        {
            return RegistryPathStatus.NotFound;
        }

        var segments = text[(Prefix.Length + 1)..].Split('/');
        var n = segments.Length;
        RegistryRoute route;
        int nameSegments;
        var reference = "";

        if (n >= 4 && segments[n - 3] == "blobs" && segments[n - 2] == "uploads")
        {
            nameSegments = n - 3;
            reference = segments[n - 1];
            route = reference.Length == 0 ? RegistryRoute.UploadStart : RegistryRoute.Upload;
        }
        else if (n >= 3 && segments[n - 2] == "blobs" && segments[n - 1] == "uploads")
        {
            nameSegments = n - 2;
            route = RegistryRoute.UploadStart;
        }
        else if (n >= 3 && segments[n - 2] == "tags" && segments[n - 1] == "list")
        {
            nameSegments = n - 2;
            route = RegistryRoute.TagsList;
        }
        else if (n >= 3 && segments[n - 2] is "manifests" or "blobs" or "referrers" && segments[n - 1].Length > 0)
        {
            nameSegments = n - 2;
            reference = segments[n - 1];
            route = segments[n - 2] switch
            {
                "manifests" => RegistryRoute.Manifest,
                "blobs" => RegistryRoute.Blob,
                _ => RegistryRoute.Referrers,
            };
        }
        else
        {
            return RegistryPathStatus.NotFound;
        }

        var name = string.Join('/', segments, 0, nameSegments);
        if (!RepositoryName.IsValid(name))
        {
            return RegistryPathStatus.NameInvalid;
        }

        if (reference.Contains('%', StringComparison.Ordinal))
        {
            try
            {
                reference = Uri.UnescapeDataString(reference);
            }
            catch (UriFormatException)
            {
                return RegistryPathStatus.NotFound;
            }
        }

        path = new RegistryPath(route, name, reference);
        return RegistryPathStatus.Ok;
    }
}

using System.Net;
using System.Text;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Agent.Manifests;
using P2PRegistry.Distribution;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Agent.Registry;

internal sealed partial class MirrorHandler
{
    /// <summary>Query parameters a listing passes on to the origin (paging and the referrers filter).</summary>
    private static readonly string[] ListingParameters = ["n", "last", "artifactType"];

    /// <summary>
    /// <c>tags/list</c> and <c>referrers/&lt;digest&gt;</c>, answered by the origin with the same <c>ns</c>: its
    /// status (200, 400 or 404), body and paging headers pass unchanged, so a 404 stays a 404 and containerd falls
    /// back to its next host. Anything else from the origin, or no answer in OriginTimeout, is 503 UNAVAILABLE.
    /// </summary>
    private async Task PassListingAsync(HttpContext context, RegistryPath path, bool head)
    {
        var tail = path.Route == RegistryRoute.Referrers ? $"referrers/{ParseDigest(path.Reference).Value}" : "tags/list";
        var ns = Namespace(context);
        var query = new StringBuilder($"?ns={Uri.EscapeDataString(ns)}");
        foreach (var name in ListingParameters)
        {
            if (context.Request.Query[name].ToString() is { Length: > 0 } value)
            {
                query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }

        var (listing, reason) = await _listings.GetAsync($"v2/{path.Name}/{tail}{query}", context.RequestAborted).ConfigureAwait(false);
        if (listing is null || listing.Status is not (HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.NotFound))
        {
            reason = listing is null ? reason : $"the origin answered {(int)listing.Status}";
            AgentLog.ListingUnavailable(_logger, $"{path.Name}/{tail}", ns, reason);
            throw new RegistryException(RegistryError.Unavailable, "the origin cannot answer", reason);
        }

        if (listing.Status != HttpStatusCode.OK && listing.ContentType != "application/json")
        {
            // Not an OCI error body: say the same in one.
            var error = new RegistryError(listing.Status == HttpStatusCode.NotFound ? RegistryError.NameUnknown.Code : RegistryError.Unsupported.Code, (int)listing.Status);
            throw new RegistryException(error, $"the origin answered {(int)listing.Status}", Truncate(path.Name));
        }

        var response = context.Response;
        response.StatusCode = (int)listing.Status;
        response.ContentType = listing.ContentType ?? "application/json";
        response.ContentLength = listing.Body.Length;
        if (listing.Link is { } link)
        {
            response.Headers.Link = WithNamespace(link, context.Request.Query.ContainsKey("ns") ? ns : null);
        }

        if (listing.FiltersApplied is { } filters)
        {
            response.Headers[OriginListingClient.FiltersAppliedHeader] = filters;
        }

        if (!head)
        {
            await response.Body.WriteAsync(listing.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The origin's <c>Link: &lt;/v2/…?n=&amp;last=&gt;; rel="next"</c> with the request's <c>ns</c> added, so the
    /// next page is asked of the same upstream (the origin's link does not carry it).
    /// </summary>
    internal static string WithNamespace(string link, string? ns)
    {
        var open = link.IndexOf('<', StringComparison.Ordinal);
        var close = link.IndexOf('>', StringComparison.Ordinal);
        if (ns is null || open < 0 || close < open || HasNamespace(link.AsSpan(open, close - open)))
        {
            return link;
        }

        var target = link[(open + 1)..close];
        static bool HasNamespace(ReadOnlySpan<char> target) => target.Contains("?ns=", StringComparison.Ordinal) || target.Contains("&ns=", StringComparison.Ordinal);

        var separator = target.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return $"{link[..close]}{separator}ns={Uri.EscapeDataString(ns)}{link[close..]}";
    }
}

using System.Net;
using P2PRegistry.Origin.Diagnostics;

namespace P2PRegistry.Origin.Upstream;

/// <summary>One counted request to an upstream: every outcome lands in <c>p2pregistry.origin.upstream.requests</c>.</summary>
internal static class UpstreamExchange
{
    public const string ManifestHead = "manifest_head";
    public const string ManifestGet = "manifest_get";
    public const string BlobHead = "blob_head";
    public const string BlobGet = "blob_get";
    public const string ReferrersGet = "referrers_get";

    /// <summary>The four manifest types, as REGISTRY.md asks: an upstream answers with what we list, or a schema 1 fallback.</summary>
    public static readonly IReadOnlyList<string> ManifestAccept =
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ];

    public static async Task<HttpResponseMessage> SendAsync(UpstreamClient client, OriginMetrics metrics, string kind, HttpMethod method, string repository, string tail, IReadOnlyList<string> accept, CancellationToken cancellationToken)
    {
        var name = client.Upstream.Name;
        try
        {
            var response = await client.SendAsync(method, repository, tail, accept, cancellationToken).ConfigureAwait(false);
            metrics.UpstreamRequest(name, kind, ResultOf(response.StatusCode));
            return response;
        }
        catch (UpstreamException ex)
        {
            metrics.UpstreamRequest(name, kind, ex.Failure switch
            {
                UpstreamFailure.Unauthorized => "unauthorized",
                UpstreamFailure.RateLimited => "rate_limited",
                UpstreamFailure.Unreachable => "unreachable",
                UpstreamFailure.Refused => "refused",
                _ => "error",
            });
            throw;
        }
        catch (OperationCanceledException)
        {
            metrics.UpstreamRequest(name, kind, "timeout");
            throw;
        }
    }

    public static string ResultOf(HttpStatusCode status) => (int)status switch
    {
        >= 200 and < 300 => "ok",
        404 => "not_found",
        _ => "error",
    };
}

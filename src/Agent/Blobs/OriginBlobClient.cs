namespace P2PRegistry.Agent.Blobs;

/// <summary>
/// <c>GET /v2/&lt;name&gt;/blobs/&lt;digest&gt;?ns=&lt;registry&gt;</c> on the origin, for a blob no origin holds yet:
/// the origin pulls it through from the upstream <c>ns</c> names and streams it while it stores it. The client's
/// handler has no overall timeout (a blob may take minutes); callers bound the wait for headers and for each read.
/// </summary>
internal sealed class OriginBlobClient(HttpClient http)
{
    /// <summary>
    /// <c>GET /v2/</c> at start: opens this client's connection to the origin (TCP, TLS) before the first pull needs it.
    /// Any answer will do; returns its status code.
    /// </summary>
    public async Task<int> WarmUpAsync(CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("v2/", HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return (int)response.StatusCode;
    }

    /// <summary>The blob's length as the origin (or, through it, the upstream) knows it; null when it has no such blob.</summary>
    public async Task<long?> GetLengthAsync(string repository, string digest, string registryNamespace, CancellationToken cancellationToken)
    {
        var uri = $"v2/{repository}/blobs/{digest}?ns={Uri.EscapeDataString(registryNamespace)}";
        using var request = new HttpRequestMessage(HttpMethod.Head, uri);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode ? response.Content.Headers.ContentLength : null;
    }

    public Task<HttpResponseMessage> GetAsync(string repository, string digest, string registryNamespace, CancellationToken cancellationToken)
    {
        var uri = $"v2/{repository}/blobs/{digest}?ns={Uri.EscapeDataString(registryNamespace)}";
        return http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }
}

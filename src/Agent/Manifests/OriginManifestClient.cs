using System.Net;
using System.Net.Http.Headers;
using P2PRegistry.Core.Content;
using P2PRegistry.Distribution;

namespace P2PRegistry.Agent.Manifests;

/// <summary>
/// Fetches manifests from the origin: <c>GET /v2/&lt;name&gt;/manifests/&lt;ref&gt;?ns=&lt;registry&gt;</c> with all four
/// manifest media types accepted. The bytes are checked against the digest they are asked by (or, for a tag,
/// hashed to name them), so nothing unverified is cached or served by digest.
/// </summary>
/// <remarks>
/// <paramref name="timeout"/> (OriginTimeout) bounds the whole exchange, body included: <see cref="HttpClient.Timeout"/>
/// ends once the headers are read, which would leave an origin that trickles the body unbounded.
/// </remarks>
internal sealed class OriginManifestClient(HttpClient http, TimeSpan timeout)
{
    /// <summary>Manifests larger than this are refused (the origin accepts 4 MB).</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    private static readonly string[] AcceptedTypes =
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ];

    /// <summary>
    /// <c>GET /v2/</c> at start: opens this client's connection to the origin (TCP, TLS) before the first pull needs it.
    /// Any answer will do; returns its status code.
    /// </summary>
    public async Task<int> WarmUpAsync(CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("v2/", HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return (int)response.StatusCode;
    }

    public async Task<ManifestLookup> GetAsync(string name, string reference, Digest? expected, string registryNamespace, CancellationToken cancellationToken)
    {
        var uri = $"v2/{name}/manifests/{Uri.EscapeDataString(reference)}?ns={Uri.EscapeDataString(registryNamespace)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        foreach (var type in AcceptedTypes)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*", 0.5));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new ManifestLookup(ManifestLookupStatus.NotFound, null, "the origin has no such manifest");
            }

            if (!response.IsSuccessStatusCode)
            {
                return new ManifestLookup(ManifestLookupStatus.Unavailable, null, $"the origin answered {(int)response.StatusCode}");
            }

            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (string.IsNullOrEmpty(mediaType) || response.Content.Headers.ContentLength > MaxManifestBytes)
            {
                return new ManifestLookup(ManifestLookupStatus.Unavailable, null, "the origin sent no media type or an oversized manifest");
            }

            var content = await ReadLimitedAsync(response.Content, deadline.Token).ConfigureAwait(false);
            if (content is null)
            {
                return new ManifestLookup(ManifestLookupStatus.Unavailable, null, $"the manifest exceeds {MaxManifestBytes} bytes");
            }

            var digest = Digest.Compute(content);
            if (expected is { } wanted && digest != wanted)
            {
                return new ManifestLookup(ManifestLookupStatus.Unavailable, null, $"the origin's manifest hashes to {digest}, not {wanted}");
            }

            // The origin names the digest too; a disagreement means something between us rewrote the bytes.
            if (response.Headers.TryGetValues(RegistryHeaders.ContentDigest, out var values)
                && Digest.TryParse(values.FirstOrDefault(), out var announced) && announced != digest)
            {
                return new ManifestLookup(ManifestLookupStatus.Unavailable, null, $"the origin's manifest hashes to {digest}, but it says {announced}");
            }

            return new ManifestLookup(ManifestLookupStatus.Found, new Manifest(content, mediaType, digest), "");
        }
        catch (HttpRequestException ex)
        {
            return new ManifestLookup(ManifestLookupStatus.Unavailable, null, $"the origin is unreachable: {ex.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ManifestLookup(ManifestLookupStatus.Unavailable, null, "the origin timed out");
        }
    }

    private static async Task<byte[]?> ReadLimitedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxManifestBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }
}

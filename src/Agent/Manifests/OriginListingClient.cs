using System.Net;
using P2PRegistry.Distribution;

namespace P2PRegistry.Agent.Manifests;

/// <summary>A listing as the origin answered it: status, type, body (at most <see cref="OriginListingClient.MaxBodyBytes"/>), paging headers.</summary>
internal sealed record OriginListing(HttpStatusCode Status, string? ContentType, byte[] Body, string? Link, string? FiltersApplied);

/// <summary>
/// Fetches the origin's listings — <c>tags/list</c> and <c>referrers/&lt;digest&gt;</c> — for the mirror to pass on:
/// bounded in size (the same limit as a manifest) and in time: <paramref name="timeout"/> (OriginTimeout) covers the
/// whole exchange, body included (<see cref="HttpClient.Timeout"/> ends with the headers when reading them first).
/// </summary>
internal sealed class OriginListingClient(HttpClient http, TimeSpan timeout)
{
    public const int MaxBodyBytes = OriginManifestClient.MaxManifestBytes;

    public const string FiltersAppliedHeader = "OCI-Filters-Applied";

    /// <summary>The origin's answer to <paramref name="relativeUri"/>; null (with the reason) when it cannot be had.</summary>
    public async Task<(OriginListing? Listing, string Reason)> GetAsync(string relativeUri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, relativeUri);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            if (response.Content.Headers.ContentLength > MaxBodyBytes)
            {
                return (null, $"the origin's answer exceeds {MaxBodyBytes} bytes");
            }

            var body = await ReadLimitedAsync(response.Content, deadline.Token).ConfigureAwait(false);
            if (body is null)
            {
                return (null, $"the origin's answer exceeds {MaxBodyBytes} bytes");
            }

            var link = response.Headers.TryGetValues("Link", out var links) ? links.FirstOrDefault() : null;
            var filters = response.Headers.TryGetValues(FiltersAppliedHeader, out var applied) ? string.Join(',', applied) : null;
            return (new OriginListing(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, link, filters), "");
        }
        catch (HttpRequestException ex)
        {
            return (null, $"the origin is unreachable: {ex.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, "the origin timed out");
        }
    }

    private static async Task<byte[]?> ReadLimitedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }
}

using Microsoft.Net.Http.Headers;
using P2PRegistry.Core.Content;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Origin.Registry;

internal sealed partial class RegistryHandler
{
    /// <summary>
    /// HEAD/GET a blob, honouring one byte range (see <see cref="ByteRange"/>). The body goes from the file
    /// to the socket without buffering the blob. A blob the repository does not hold is, when <c>ns</c> (or
    /// the default upstream) names an upstream, served from the store if any repository brought it in, else
    /// filled from the upstream and streamed while it arrives.
    /// </summary>
    private async Task GetBlobAsync(HttpContext context, RegistryPath path, bool head)
    {
        var digest = ParseDigest(path.Reference);
        long length;
        if (!_repositories.HasBlob(path.Name, digest) || !_blobs.TryGetLength(digest, out length))
        {
            var (client, local) = UpstreamFor(context, path.Name);
            if (client is null || local is null)
            {
                throw new RegistryException(RegistryError.BlobUnknown, "blob unknown to registry", digest.Value);
            }

            // Content addressed: bytes any repository brought in are the blob, whoever asks.
            if (!_blobs.TryGetLength(digest, out length))
            {
                await GetUpstreamBlobAsync(context, client, path.Name, local, digest, head).ConfigureAwait(false);
                return;
            }
        }

        var (offset, count) = WriteBlobHeaders(context, digest, length);
        if (head || count <= 0)
        {
            return;
        }

        await BlobSender.SendAsync(context, _blobs.DataPath(digest), offset, count, _metrics.BytesSent).ConfigureAwait(false);
    }

    /// <summary>
    /// Status, length and range headers of a blob response; returns the byte range to send (count -1 when the
    /// range was unsatisfiable and the 416 is complete).
    /// </summary>
    private static (long Offset, long Count) WriteBlobHeaders(HttpContext context, Digest digest, long length)
    {
        var response = context.Response;
        response.Headers[ContentDigestHeader] = digest.Value;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.ETag = $"\"{digest.Value}\"";
        response.Headers.CacheControl = "max-age=31536000";
        response.ContentType = "application/octet-stream";

        // Several Range headers are as good as a multi-range request: answer with the whole blob.
        var rangeHeader = context.Request.Headers.Range;
        var status = ByteRange.TryParse(rangeHeader.Count == 1 ? rangeHeader[0] : null, length, out var range);
        long offset = 0;
        var count = length;
        switch (status)
        {
            case ByteRangeStatus.Unsatisfiable:
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{length}";
                response.ContentLength = 0;
                return (0, -1);
            case ByteRangeStatus.Partial:
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = new ContentRangeHeaderValue(range.Start, range.End, length).ToString();
                offset = range.Start;
                count = range.Length;
                break;
            default:
                response.StatusCode = StatusCodes.Status200OK;
                break;
        }

        response.ContentLength = count;
        return (offset, count);
    }

    /// <summary>Removes the blob from the repository (its bytes stay for other repositories).</summary>
    private Task DeleteBlob(HttpContext context, RegistryPath path)
    {
        var digest = ParseDigest(path.Reference);
        if (!_repositories.UnlinkBlob(path.Name, digest))
        {
            throw new RegistryException(RegistryError.BlobUnknown, "blob unknown to repository", digest.Value);
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }
}

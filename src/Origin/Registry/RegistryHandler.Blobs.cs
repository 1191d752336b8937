using Microsoft.Net.Http.Headers;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Origin.Registry;

internal sealed partial class RegistryHandler
{
    /// <summary>
    /// HEAD/GET a blob, honouring one byte range (see <see cref="ByteRange"/>). The body goes from the file
    /// to the socket without buffering the blob.
    /// </summary>
    private async Task GetBlobAsync(HttpContext context, RegistryPath path, bool head)
    {
        var digest = ParseDigest(path.Reference);
        if (!_repositories.HasBlob(path.Name, digest) || !_blobs.TryGetLength(digest, out var length))
        {
            throw new RegistryException(RegistryError.BlobUnknown, "blob unknown to registry", digest.Value);
        }

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
                return;
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
        if (head || count == 0)
        {
            return;
        }

        await BlobSender.SendAsync(context, _blobs.DataPath(digest), offset, count, _metrics.BytesSent).ConfigureAwait(false);
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

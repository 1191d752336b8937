using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Distribution;

public static class RegistryResponses
{
    /// <summary>Writes a small JSON body with its exact length (also on HEAD, without the body).</summary>
    public static async Task WriteJsonAsync(HttpContext context, int status, ReadOnlyMemory<byte> body, bool head)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        if (!head)
        {
            await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The headers of a blob response (digest, ranges accepted, ETag, type), then status, Content-Length and
    /// Content-Range for the request's Range. Returns the bytes to send; Count is -1 after a complete 416.
    /// </summary>
    public static (long Offset, long Count) WriteBlobHeaders(HttpContext context, Digest digest, long length)
    {
        var response = context.Response;
        response.Headers[RegistryHeaders.ContentDigest] = digest.Value;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.ETag = $"\"{digest.Value}\"";
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
}

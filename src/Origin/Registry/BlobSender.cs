namespace P2PRegistry.Origin.Registry;

/// <summary>Copies a stored file range to the response body without buffering the whole file.</summary>
internal static class BlobSender
{
    public static Task SendAsync(HttpContext context, string path, long offset, long count) =>
        context.Response.SendFileAsync(path, offset, count, context.RequestAborted);
}

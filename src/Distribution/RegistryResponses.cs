using Microsoft.AspNetCore.Http;

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
}

using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace P2PRegistry.Distribution;

/// <summary>Writes the OCI error body: <c>{"errors":[{"code","message","detail"}]}</c>, application/json.</summary>
public static class RegistryErrors
{
    public static async Task WriteAsync(HttpContext context, RegistryError error, string message, string? detail,
        IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            // Headers are gone already (a failure mid-body): all that is left is to cut the connection.
            context.Abort();
            return;
        }

        response.Clear();
        response.Headers[RegistryHeaders.ApiVersion] = "registry/2.0";
        foreach (var (name, value) in headers ?? [])
        {
            response.Headers[name] = value;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("errors");
            writer.WriteStartObject();
            writer.WriteString("code", error.Code);
            writer.WriteString("message", message);
            if (detail is null)
            {
                writer.WriteNull("detail");
            }
            else
            {
                writer.WriteString("detail", detail);
            }

            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        try
        {
            await RegistryResponses.WriteJsonAsync(context, error.Status, buffer.WrittenMemory, HttpMethods.IsHead(context.Request.Method)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
        }
    }
}

using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace P2PRegistry.Origin.Registry;

internal sealed partial class RegistryHandler
{
    /// <summary>
    /// GET <c>tags/list[?n=&amp;last=]</c>: tags in ordinal order after <c>last</c>, at most <c>n</c>, with a
    /// <c>Link: &lt;…&gt;; rel="next"</c> header when more remain.
    /// </summary>
    private async Task ListTagsAsync(HttpContext context, RegistryPath path, bool head)
    {
        // Tags are not pulled through: an upstream's tags are not this origin's to list.
        var tags = (TargetOf(context, path.Name).Local ? _repositories.ListTags(path.Name) : null)
            ?? throw new RegistryException(RegistryError.NameUnknown, "repository name not known to registry", path.Name);

        var query = context.Request.Query;
        int? limit = null;
        if (query.TryGetValue("n", out var nValue) && nValue.ToString().Length > 0)
        {
            if (!int.TryParse(nValue.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                throw new RegistryException(RegistryError.PaginationNumberInvalid, "invalid number of results requested", nValue.ToString());
            }

            limit = n;
        }

        var last = query["last"].ToString();
        var start = 0;
        if (last.Length > 0)
        {
            start = tags.BinarySearch(last, StringComparer.Ordinal);
            start = start >= 0 ? start + 1 : ~start;
        }

        var count = Math.Min(tags.Count - start, limit ?? int.MaxValue);
        var page = tags.GetRange(start, count);
        if (limit is { } pageSize && count > 0 && start + count < tags.Count)
        {
            context.Response.Headers.Link = $"</v2/{path.Name}/tags/list?n={pageSize}&last={Uri.EscapeDataString(page[^1])}>; rel=\"next\"";
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", path.Name);
            writer.WriteStartArray("tags");
            foreach (var tag in page)
            {
                writer.WriteStringValue(tag);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        await RegistryResponses.WriteJsonAsync(context, StatusCodes.Status200OK, buffer.WrittenMemory, head).ConfigureAwait(false);
    }
}

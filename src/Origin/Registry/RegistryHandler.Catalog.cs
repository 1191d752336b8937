using System.Buffers;
using System.Globalization;
using System.Text.Json;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Origin.Registry;

internal sealed partial class RegistryHandler
{
    /// <summary>Repositories per <c>_catalog</c> page without <c>n</c> (docker-registry's default too).</summary>
    public const int DefaultCatalogPage = 100;

    /// <summary>The largest <c>n</c> accepted; more is 400 PAGINATION_NUMBER_INVALID, as docker-registry answers.</summary>
    public const int MaxCatalogPage = 1000;

    /// <summary>
    /// GET <c>/v2/_catalog[?n=&amp;last=]</c>: pushed repositories in ordinal order after <c>last</c>, at most <c>n</c>,
    /// with <c>Link: &lt;…&gt;; rel="next"</c> when more remain. Repositories holding pulled-through content are not
    /// listed: they are copies of an upstream's, reached by the upstream's name and <c>ns</c>, not by their store name.
    /// </summary>
    private async Task ListCatalogAsync(HttpContext context, bool head)
    {
        var query = context.Request.Query;
        var limit = DefaultCatalogPage;
        if (query.TryGetValue("n", out var nValue) && nValue.ToString().Length > 0)
        {
            if (!int.TryParse(nValue.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > MaxCatalogPage)
            {
                throw new RegistryException(RegistryError.PaginationNumberInvalid, "invalid number of results requested", Truncate(nValue.ToString()));
            }

            limit = n;
        }

        var last = query["last"].ToString();
        var page = limit == 0
            ? []
            : _repositories.ListRepositories(last.Length > 0 ? last : null, limit + 1, name => _upstreams.PulledThroughOwner(name) is null);
        if (page.Count > limit)
        {
            page.RemoveAt(page.Count - 1);
            context.Response.Headers.Link = $"</v2/_catalog?n={limit}&last={Uri.EscapeDataString(page[^1])}>; rel=\"next\"";
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("repositories");
            foreach (var name in page)
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        await RegistryResponses.WriteJsonAsync(context, StatusCodes.Status200OK, buffer.WrittenMemory, head).ConfigureAwait(false);
    }
}

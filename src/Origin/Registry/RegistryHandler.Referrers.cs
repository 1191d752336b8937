using System.Globalization;
using System.Net;
using System.Text.Json;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Manifests;
using P2PRegistry.Origin.Upstream;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Origin.Registry;

internal sealed partial class RegistryHandler
{
    /// <summary>OCI 1.1: names the filters a referrers response applied (only <c>artifactType</c> exists).</summary>
    public const string FiltersAppliedHeader = "OCI-Filters-Applied";

    /// <summary>OCI 1.1: answers a manifest PUT whose <c>subject</c> the registry recorded.</summary>
    public const string SubjectHeader = "OCI-Subject";

    /// <summary>Descriptors per referrers page at most (a smaller <c>n</c> is honoured; the body is bounded by MaxManifestBytes too).</summary>
    public const int MaxReferrersPerPage = 1000;

    /// <summary>
    /// GET <c>/v2/&lt;name&gt;/referrers/&lt;digest&gt;[?artifactType=&amp;n=&amp;last=]</c>: the image index of the
    /// manifests whose <c>subject</c> is that digest — never a 404 (spec: an empty index when there are none), 400 for a
    /// digest that is not one. A pushed repository answers from its own referrers when <c>ns</c> lets pushed content answer
    /// (<see cref="NamespaceRule"/>); otherwise the upstream <c>ns</c> (or the default upstream) names is asked.
    /// </summary>
    private async Task ListReferrersAsync(HttpContext context, RegistryPath path, bool head)
    {
        var subject = ParseDigest(path.Reference);
        var query = context.Request.Query;
        var artifactType = query["artifactType"].ToString();
        var filter = artifactType.Length > 0 ? artifactType : null;

        var target = TargetOf(context, path.Name);
        if (!(target.Local && _repositories.Exists(path.Name)) && UpstreamOf(target, path.Name) is ({ } client, not null))
        {
            await PassUpstreamReferrersAsync(context, client, path.Name, subject, filter, head).ConfigureAwait(false);
            return;
        }

        var limit = MaxReferrersPerPage;
        if (query.TryGetValue("n", out var nValue) && nValue.ToString().Length > 0)
        {
            if (!int.TryParse(nValue.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                throw new RegistryException(RegistryError.PaginationNumberInvalid, "invalid number of results requested", Truncate(nValue.ToString()));
            }

            limit = Math.Min(n, MaxReferrersPerPage);
        }

        Digest? after = null;
        if (query["last"].ToString() is { Length: > 0 } last)
        {
            after = ParseDigest(last);
        }

        var page = ReferrersIndex.Build(_repositories.ReadReferrers(path.Name, subject, after), filter, limit, (int)Math.Min(_options.MaxManifestBytes, int.MaxValue));
        var response = context.Response;
        if (filter is not null)
        {
            response.Headers[FiltersAppliedHeader] = "artifactType";
        }

        if (page.Next is { } next)
        {
            var filterQuery = filter is null ? "" : $"&artifactType={Uri.EscapeDataString(filter)}";
            response.Headers.Link = $"</v2/{path.Name}/referrers/{subject.Value}?n={limit}&last={next.Value}{filterQuery}>; rel=\"next\"";
        }

        await WriteIndexAsync(context, page.Body, head).ConfigureAwait(false);
    }

    /// <summary>
    /// The upstream's referrers, first page only (its <c>Link</c> points at the upstream, which clients cannot reach
    /// through us), under the manifest size limit. An upstream without the referrers API answers 404, and so do we:
    /// the client then falls back to the tag schema (<c>sha256-&lt;hex&gt;</c>), which pull-through serves.
    /// </summary>
    private async Task PassUpstreamReferrersAsync(HttpContext context, UpstreamClient client, string name, Digest subject, string? filter, bool head)
    {
        var aborted = context.RequestAborted;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(_options.UpstreamTimeout);
        var tail = $"referrers/{subject.Value}" + (filter is null ? "" : $"?artifactType={Uri.EscapeDataString(filter)}");
        // Its 404s go through the not-found cache like manifests and blobs: a flood of referrers requests for a missing
        // subject costs the upstream one request per cache period. The key cannot collide with a tag or digest.
        ThrowIfKnownMissing(client, name, tail, RegistryError.NameUnknown, "repository name not known to registry");
        ReadOnlyMemory<byte> body;
        string? filtersApplied;
        try
        {
            using var upstream = await UpstreamExchange.SendAsync(client, _metrics, UpstreamExchange.ReferrersGet, HttpMethod.Get, name, tail, [ManifestReferences.OciIndex], timeout.Token).ConfigureAwait(false);
            if (upstream.StatusCode == HttpStatusCode.NotFound)
            {
                _notFound.Add(client.Upstream.Name, name, tail);
                throw new RegistryException(RegistryError.NameUnknown, $"upstream {client.Upstream.Name} offers no referrers for this name", Truncate(name));
            }

            if (upstream.StatusCode != HttpStatusCode.OK || upstream.Content.Headers.ContentLength > _options.MaxManifestBytes)
            {
                throw new RegistryException(RegistryError.Unavailable, $"upstream {client.Upstream.Name} unavailable", $"referrers answered {(int)upstream.StatusCode}");
            }

            body = await ReadLimitedAsync(upstream.Content, _options.MaxManifestBytes, timeout.Token).ConfigureAwait(false)
                ?? throw new RegistryException(RegistryError.Unavailable, $"upstream {client.Upstream.Name} unavailable", "referrers response over the manifest size limit");
            filtersApplied = upstream.Headers.TryGetValues(FiltersAppliedHeader, out var values) ? string.Join(',', values) : null;
        }
        catch (UpstreamException ex)
        {
            RememberIfMissing(ex, client, name, tail);
            throw UpstreamError(ex, RegistryError.NameUnknown, "repository name not known to registry", name);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            throw new RegistryException(RegistryError.Unavailable, $"upstream {client.Upstream.Name} unavailable", ex.Message);
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException(RegistryError.Unavailable, $"upstream {client.Upstream.Name} unavailable", ex.Message);
        }

        if (!IsJsonObject(body))
        {
            throw new RegistryException(RegistryError.Unavailable, $"upstream {client.Upstream.Name} unavailable", "referrers response is not a JSON object");
        }

        if (filtersApplied is not null)
        {
            context.Response.Headers[FiltersAppliedHeader] = filtersApplied;
        }

        OriginLog.ReferrersPassedThrough(_logger, client.Upstream.Name, name, subject.Value, body.Length);
        await WriteIndexAsync(context, body, head).ConfigureAwait(false);
    }

    private static Task WriteIndexAsync(HttpContext context, ReadOnlyMemory<byte> body, bool head)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ManifestReferences.OciIndex;
        response.ContentLength = body.Length;
        return head ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static bool IsJsonObject(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static async Task<ReadOnlyMemory<byte>?> ReadLimitedAsync(HttpContent content, long max, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(16 * 1024);
            while (true)
            {
                var read = await stream.ReadAsync(buffer.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.WrittenMemory;
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > max)
                {
                    return null;
                }
            }
        }
    }

    /// <summary>After a manifest PUT: record it under its subject. Returns the subject (for <c>OCI-Subject</c>), or null.</summary>
    private async Task<Digest?> LinkReferrerAsync(string name, Digest digest, long size, string mediaType, ManifestReferences references)
    {
        if (Referrer.From(references, digest, size, mediaType) is not { } referrer)
        {
            return null;
        }

        var subject = references.Subject!.Value;
        await _repositories.LinkReferrerAsync(name, subject, referrer, CancellationToken.None).ConfigureAwait(false);
        return subject;
    }
}

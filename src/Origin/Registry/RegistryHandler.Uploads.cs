using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using P2PRegistry.Core.Content;
using P2PRegistry.Hosting;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Storage;
using P2PRegistry.Origin.Uploads;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Origin.Registry;

internal sealed partial class RegistryHandler
{
    /// <summary>
    /// POST <c>blobs/uploads/</c>: a cross-repository mount (<c>?mount=&amp;from=</c>, 201 if the source
    /// has the blob, else a normal upload), a single-request upload (<c>?digest=</c> with the body, 201), or a
    /// new upload session (202).
    /// </summary>
    private async Task StartUploadAsync(HttpContext context, RegistryPath path)
    {
        var query = context.Request.Query;
        var response = context.Response;

        if (query.TryGetValue("mount", out var mountValue) && !string.IsNullOrEmpty(mountValue))
        {
            var digest = ParseDigest(mountValue.ToString());
            var from = query["from"].ToString();
            using var pin = _gc.Hold(digest);
            if (RepositoryName.IsValid(from) && _repositories.HasBlob(from, digest) && await _cluster.ExistsAsync(digest, path.Name, context.RequestAborted).ConfigureAwait(false))
            {
                await _repositories.LinkBlobAsync(path.Name, digest, CancellationToken.None).ConfigureAwait(false);
                OriginLog.BlobMounted(_logger, digest.Value, from, path.Name);
                SetBlobCreated(response, path.Name, digest);
                return;
            }
        }
        else if (query.TryGetValue("digest", out var digestValue))
        {
            var digest = ParseDigest(digestValue.ToString());
            var single = _uploads.Create(path.Name, ClientOf(context));
            single.TryEnter();
            try
            {
                await AppendBodyAsync(context, single).ConfigureAwait(false);
                var (stored, _) = await _uploads.CompleteAsync(single, digest).ConfigureAwait(false);
                await _cluster.ReplicateBlobAsync(stored, path.Name, CancellationToken.None).ConfigureAwait(false);
                SetBlobCreated(response, path.Name, stored);
            }
            finally
            {
                // A failed or abandoned single request leaves no session behind (it has no Location to resume).
                _uploads.Remove(single);
            }

            return;
        }

        var session = _uploads.Create(path.Name, ClientOf(context));
        SetUploadHeaders(response, path.Name, session);
        response.StatusCode = StatusCodes.Status202Accepted;
    }

    /// <summary>
    /// PATCH: append a streamed body (no Content-Range) or a chunk whose <c>Content-Range: start-end</c>
    /// must start where the upload ends (else 416 with the current Range, so the client can resume).
    /// </summary>
    private async Task PatchUploadAsync(HttpContext context, RegistryPath path)
    {
        var session = EnterSession(path);
        try
        {
            var contentRange = context.Request.Headers.ContentRange.ToString();
            if (contentRange.Length > 0)
            {
                if (!TryParseChunkRange(contentRange, out var start, out var end))
                {
                    throw new RegistryException(RegistryError.BlobUploadInvalid, "malformed Content-Range; expected <start>-<end>", Truncate(contentRange));
                }

                var declared = context.Request.ContentLength;
                if (start != session.Length || (declared is { } n && n != end - start + 1))
                {
                    throw new RegistryException(RegistryError.RangeInvalid, "chunk does not continue the upload", $"upload has {session.Length} bytes; chunk is {contentRange}")
                    {
                        Headers = UploadHeaders(path.Name, session),
                    };
                }
            }

            await AppendBodyAsync(context, session).ConfigureAwait(false);
            SetUploadHeaders(context.Response, path.Name, session);
            context.Response.StatusCode = StatusCodes.Status202Accepted;
        }
        finally
        {
            Leave(session);
        }
    }

    /// <summary>PUT <c>?digest=</c>: append an optional final body, verify, store (201) — or 400 and nothing stored.</summary>
    private async Task PutUploadAsync(HttpContext context, RegistryPath path)
    {
        if (!context.Request.Query.TryGetValue("digest", out var digestValue))
        {
            throw new RegistryException(RegistryError.DigestInvalid, "digest query parameter is required to complete an upload");
        }

        var expected = ParseDigest(digestValue.ToString());
        var session = EnterSession(path);
        try
        {
            await AppendBodyAsync(context, session).ConfigureAwait(false);
            var (digest, _) = await _uploads.CompleteAsync(session, expected).ConfigureAwait(false);
            // In a cluster the 201 means the blob's R owners hold it (or 503: too few members reachable).
            await _cluster.ReplicateBlobAsync(digest, path.Name, CancellationToken.None).ConfigureAwait(false);
            SetBlobCreated(context.Response, path.Name, digest);
        }
        finally
        {
            Leave(session);
        }
    }

    private Task GetUploadStatus(HttpContext context, RegistryPath path)
    {
        var session = _uploads.Find(path.Reference, path.Name)
            ?? throw new RegistryException(RegistryError.BlobUploadUnknown, "blob upload unknown to registry", path.Reference);
        SetUploadHeaders(context.Response, path.Name, session);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private Task CancelUpload(HttpContext context, RegistryPath path)
    {
        var session = EnterSession(path);
        _uploads.Remove(session);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    /// <summary>Finds the session and takes its single request slot (409 if another request holds it).</summary>
    private UploadSession EnterSession(RegistryPath path)
    {
        var session = _uploads.Find(path.Reference, path.Name)
            ?? throw new RegistryException(RegistryError.BlobUploadUnknown, "blob upload unknown to registry", path.Reference);
        if (!session.TryEnter())
        {
            // Either a request is in flight, or the expiry sweep just took it.
            if (_uploads.Find(path.Reference, path.Name) is null)
            {
                throw new RegistryException(RegistryError.BlobUploadUnknown, "blob upload unknown to registry", path.Reference);
            }

            throw new RegistryException(RegistryError.UploadBusy, "another request on this upload is in progress", path.Reference);
        }

        session.LastActivity = _time.GetTimestamp();
        return session;
    }

    private void Leave(UploadSession session)
    {
        session.LastActivity = _time.GetTimestamp();
        session.Exit();
    }

    /// <summary>Streams the request body into the session; the upload limit replaces Kestrel's 30 MB default.</summary>
    private async Task AppendBodyAsync(HttpContext context, UploadSession session)
    {
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var max = _options.MaxUploadBytes;
        var declared = context.Request.ContentLength;
        if (declared is { } n && n > max - session.Length)
        {
            _uploads.Remove(session);
            throw new UploadTooLargeException(max);
        }

        // Checked before a byte is read: a body that cannot fit the in-flight budget is refused whole.
        if (declared is { } d && d > session.Reserved - session.Length + _uploads.BytesAvailable)
        {
            _metrics.UploadRefused("bytes_in_flight");
            throw new UploadLimitException($"unfinished uploads hold as many bytes as allowed (Origin:MaxUploadBytesInFlight): {d} more do not fit now");
        }

        try
        {
            await session.AppendAsync(context.Request.Body, declared, max, count => _uploads.TryReserve(session, count), _metrics.BytesReceived, context.RequestAborted).ConfigureAwait(false);
        }
        catch (UploadTooLargeException)
        {
            _uploads.Remove(session);
            throw;
        }
        catch (IOException ex) when (_storageFull.IsFull(ex))
        {
            // Nothing half-written stays on a full disk: the session ends and its file goes.
            _uploads.Remove(session);
            throw;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            // What arrived before the failure is written and hashed; the session stays resumable from Range.
            OriginLog.UploadAborted(_logger, session.Id, session.Repository, session.Length);
            throw;
        }
    }

    /// <summary>The client as the per-client upload limit counts it (<see cref="ClientKey"/>: IPv6 by its /64).</summary>
    private static string ClientOf(HttpContext context) => context.Connection.RemoteIpAddress is { } address
        ? ClientKey.Of(address).ToString()
        : "unknown";

    private static void SetBlobCreated(HttpResponse response, string name, Digest digest)
    {
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = $"/v2/{name}/blobs/{digest.Value}";
        response.Headers[ContentDigestHeader] = digest.Value;
        response.ContentLength = 0;
    }

    private static void SetUploadHeaders(HttpResponse response, string name, UploadSession session)
    {
        foreach (var (header, value) in UploadHeaders(name, session))
        {
            response.Headers[header] = value;
        }

        response.ContentLength = 0;
    }

    private static KeyValuePair<string, string>[] UploadHeaders(string name, UploadSession session) =>
    [
        new("Location", $"/v2/{name}/blobs/uploads/{session.Id}"),
        new(UploadUuidHeader, session.Id),
        // Inclusive end of what is stored; an empty upload reports 0-0 as the distribution registry does.
        new("Range", $"0-{Math.Max(0, session.Length - 1)}"),
    ];

    /// <summary>Parses a chunk's <c>Content-Range</c>: <c>start-end</c> (inclusive), also <c>bytes start-end/total</c>.</summary>
    internal static bool TryParseChunkRange(string text, out long start, out long end)
    {
        start = end = 0;
        var span = text.AsSpan().Trim();
        if (span.StartsWith("bytes", StringComparison.OrdinalIgnoreCase))
        {
            span = span[5..].TrimStart(" =");
        }

        var slash = span.IndexOf('/');
        if (slash >= 0)
        {
            span = span[..slash];
        }

        var dash = span.IndexOf('-');
        return dash > 0
            && long.TryParse(span[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out start)
            && long.TryParse(span[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out end)
            && end >= start;
    }
}

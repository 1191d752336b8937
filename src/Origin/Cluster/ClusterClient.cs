using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using P2PRegistry.Core.Content;
using P2PRegistry.Hosting.Security;

namespace P2PRegistry.Origin.Cluster;

/// <summary>
/// The origin-to-origin calls (<see cref="ClusterEndpoints"/> answers them): every request carries the cluster secret
/// (when configured) and, over https, this origin's client certificate. A member that fails a call is marked down
/// (<see cref="ClusterMembers.MarkDown"/>); one that answers is marked up.
/// </summary>
internal sealed class ClusterClient : IDisposable
{
    /// <summary>A blob copy may take this long per MiB on top of <see cref="ClusterOptions.RequestTimeout"/> (≥ 1 MiB/s between origins).</summary>
    private static readonly TimeSpan PerMiB = TimeSpan.FromSeconds(1);

    private readonly HttpClient _http;
    private readonly ClusterMembers _members;
    private readonly ClusterSecret? _secret;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;

    public ClusterClient(ClusterMembers members, ClusterSecret? secret, ComponentTls? tls, TimeSpan timeout, ILogger logger)
    {
        _members = members;
        _secret = secret;
        _timeout = timeout;
        _logger = logger;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = timeout,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        };
        tls?.ConfigureClient(handler);
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public ClusterMembers Members => _members;

    /// <summary>HEAD of a blob on a member: Holds, Missing, or Unreachable (marked down).</summary>
    public async Task<Holding> HeadBlobAsync(int member, Digest digest, CancellationToken cancellationToken)
    {
        using var timeout = Linked(cancellationToken, _timeout);
        try
        {
            using var request = Request(HttpMethod.Head, member, ClusterEndpoints.BlobPath(digest));
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    _members.MarkUp(member);
                    return Holding.Holds;
                case HttpStatusCode.NotFound:
                    _members.MarkUp(member);
                    return Holding.Missing;
                default:
                    return Failed(member, "HEAD blob", $"status {(int)response.StatusCode}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return Failed(member, "HEAD blob", ex.Message);
        }
    }

    /// <summary>
    /// Asks a member that should hold a blob to keep it: it links the blob into <paramref name="repository"/> under its
    /// collector's hold (<see cref="ClusterEndpoints"/> <c>links</c>). Holds, Missing (404, or 507: its disk is full), or
    /// Unreachable (marked down).
    /// </summary>
    public async Task<Holding> LinkBlobAsync(int member, Digest digest, string repository, CancellationToken cancellationToken)
    {
        using var timeout = Linked(cancellationToken, _timeout);
        try
        {
            using var request = Request(HttpMethod.Put, member, ClusterEndpoints.LinkPath(digest, repository));
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            switch (response.StatusCode)
            {
                case HttpStatusCode.Created or HttpStatusCode.OK:
                    _members.MarkUp(member);
                    return Holding.Holds;
                case HttpStatusCode.NotFound or HttpStatusCode.InsufficientStorage:
                    _members.MarkUp(member);
                    return Holding.Missing;
                default:
                    return Failed(member, "PUT link", $"status {(int)response.StatusCode}");
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return Failed(member, "PUT link", ex.Message);
        }
    }

    /// <summary>Streams a stored blob to a member, which verifies it and stores it (and links it into <paramref name="repository"/>).</summary>
    public async Task<bool> CopyBlobAsync(int member, Digest digest, string? repository, string path, long length, CancellationToken cancellationToken)
    {
        using var timeout = Linked(cancellationToken, _timeout + (PerMiB * (length / (1024.0 * 1024.0))));
        try
        {
            var target = ClusterEndpoints.BlobPath(digest) + (repository is null ? "" : $"?repository={Uri.EscapeDataString(repository)}");
            using var request = Request(HttpMethod.Put, member, target);
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
            request.Content = new StreamContent(file, 64 * 1024);
            request.Content.Headers.ContentLength = length;
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
            {
                _members.MarkUp(member);
                return true;
            }

            if (response.StatusCode == HttpStatusCode.InsufficientStorage)
            {
                // Its disk is full: the copy is missing there, the member is not down (reads from it go on).
                FullDisk(member, "PUT blob");
                return false;
            }

            Failed(member, "PUT blob", $"status {(int)response.StatusCode}");
            return false;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            Failed(member, "PUT blob", ex.Message);
            return false;
        }
    }

    /// <summary>
    /// Sends a manifest (and its tag, if any) to a member, which stores it like a push would. An <paramref name="offer"/>
    /// (the repair loop's) may be refused as deleted: <see cref="ManifestSend.ManifestDeleted"/> or
    /// <see cref="ManifestSend.TagDeleted"/>; a push's send always stores (and voids the member's tombstones).
    /// </summary>
    public async Task<ManifestSend> PutManifestAsync(int member, string repository, string? tag, ReadOnlyMemory<byte> body, string mediaType, bool offer, CancellationToken cancellationToken)
    {
        using var timeout = Linked(cancellationToken, _timeout);
        try
        {
            var target = $"{ClusterEndpoints.ManifestsPath}?repository={Uri.EscapeDataString(repository)}" + (tag is null ? "" : $"&tag={Uri.EscapeDataString(tag)}")
                + (offer ? "&offer=1" : "");
            using var request = Request(HttpMethod.Put, member, target);
            request.Content = new ReadOnlyMemoryContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
            {
                _members.MarkUp(member);
                return ManifestSend.Stored;
            }

            if (response.StatusCode == HttpStatusCode.Gone)
            {
                _members.MarkUp(member);
                return response.Headers.TryGetValues(ClusterEndpoints.DeletedHeader, out var values) && values.Contains("manifest")
                    ? ManifestSend.ManifestDeleted
                    : ManifestSend.TagDeleted;
            }

            if (response.StatusCode == HttpStatusCode.InsufficientStorage)
            {
                FullDisk(member, "PUT manifest");
                return ManifestSend.Failed; // not stored there; the member stays up (FullDisk), the repair loop retries
            }

            Failed(member, "PUT manifest", $"status {(int)response.StatusCode}");
            return ManifestSend.Failed;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            Failed(member, "PUT manifest", ex.Message);
            return ManifestSend.Failed;
        }
    }

    /// <summary>Sends a DELETE of a manifest (by digest) or a tag, deleted at <paramref name="at"/>, to a member.</summary>
    public async Task<bool> DeleteManifestAsync(int member, string repository, string reference, DateTimeOffset at, CancellationToken cancellationToken)
    {
        using var timeout = Linked(cancellationToken, _timeout);
        try
        {
            var target = $"{ClusterEndpoints.ManifestsPath}?repository={Uri.EscapeDataString(repository)}&reference={Uri.EscapeDataString(reference)}"
                + $"&deletedAt={at.ToUnixTimeMilliseconds()}";
            using var request = Request(HttpMethod.Delete, member, target);
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.NoContent)
            {
                _members.MarkUp(member);
                return true;
            }

            Failed(member, "DELETE manifest", $"status {(int)response.StatusCode}");
            return false;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            Failed(member, "DELETE manifest", ex.Message);
            return false;
        }
    }

    /// <summary>
    /// Opens a blob (or its metainfo) on a member for proxying: the response when it answered 200/206, else null (a 404
    /// is no failure of the member). The caller disposes the response.
    /// </summary>
    public async Task<HttpResponseMessage?> OpenAsync(int member, string path, string? range, bool head, CancellationToken cancellationToken)
    {
        using var timeout = Linked(cancellationToken, _timeout);
        try
        {
            using var request = Request(head ? HttpMethod.Head : HttpMethod.Get, member, path);
            if (!string.IsNullOrEmpty(range))
            {
                request.Headers.TryAddWithoutValidation("Range", range);
            }

            // Only the headers are under the exchange timeout; the body is read under the caller's token.
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.PartialContent or HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                _members.MarkUp(member);
                return response;
            }

            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                Failed(member, $"{request.Method} {path}", $"status {(int)response.StatusCode}");
            }

            response.Dispose();
            return null;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            Failed(member, path, ex.Message);
            return null;
        }
    }

    private HttpRequestMessage Request(HttpMethod method, int member, string pathAndQuery)
    {
        var request = new HttpRequestMessage(method, _members.Members[member] + pathAndQuery);
        if (_secret is not null)
        {
            request.Headers.TryAddWithoutValidation(ClusterSecret.HeaderName, _secret.Value);
        }

        return request;
    }

    private void FullDisk(int member, string operation)
    {
        _members.MarkUp(member);
        ClusterLog.MemberFull(_logger, _members.Members[member], operation);
    }

    private Holding Failed(int member, string operation, string reason)
    {
        _members.MarkDown(member);
        ClusterLog.MemberFailed(_logger, _members.Members[member], operation, reason);
        return Holding.Unreachable;
    }

    private static CancellationTokenSource Linked(CancellationToken cancellationToken, TimeSpan timeout)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(timeout);
        return source;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>How a manifest send ended.</summary>
internal enum ManifestSend
{
    Stored,
    Failed,

    /// <summary>The member holds a tombstone of the manifest: the sender deletes its copy.</summary>
    ManifestDeleted,

    /// <summary>The member holds a tombstone of the tag: the sender deletes its tag.</summary>
    TagDeleted,
}

using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Core.Content;
using P2PRegistry.Hosting.Storage;
using P2PRegistry.Origin.Authorization;
using P2PRegistry.Origin.Cluster;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Storage;
using P2PRegistry.Origin.Uploads;
using P2PRegistry.Origin.Upstream;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Origin.Registry;

/// <summary>
/// The OCI distribution API under <c>/v2/</c>: one entry point that parses the path from the right,
/// checks push credentials, dispatches, and turns refusals into the OCI error body.
/// </summary>
internal sealed partial class RegistryHandler
{
    public const string ApiVersionHeader = "Docker-Distribution-API-Version";
    public const string ContentDigestHeader = "Docker-Content-Digest";
    public const string UploadUuidHeader = "Docker-Upload-UUID";

    private readonly BlobStore _blobs;
    private readonly RepositoryStore _repositories;
    private readonly UploadManager _uploads;
    private readonly PushAuthenticator _auth;
    private readonly OriginMetrics _metrics;
    private readonly OriginOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RegistryHandler> _logger;
    private readonly UpstreamCatalog _upstreams;
    private readonly BlobFills _fills;
    private readonly UpstreamManifests _upstreamManifests;
    private readonly NotFoundCache _notFound;
    private readonly NamespaceRule _names;
    private readonly DiskFullReporter _storageFull;
    private readonly OriginCluster _cluster;
    private readonly Collection.CollectionGate _gc;
    private readonly Collection.PullThroughUsage _pullThroughUsage;

    public RegistryHandler(BlobStore blobs, RepositoryStore repositories, UploadManager uploads, PushAuthenticator auth,
        OriginMetrics metrics, IOptions<OriginOptions> options, TimeProvider time, ILogger<RegistryHandler> logger,
        UpstreamCatalog upstreams, BlobFills fills, UpstreamManifests upstreamManifests, NotFoundCache notFound, DiskFullReporter storageFull,
        OriginCluster cluster, Collection.CollectionGate gc, Collection.PullThroughUsage pullThroughUsage)
    {
        _storageFull = storageFull;
        _cluster = cluster;
        _gc = gc;
        _pullThroughUsage = pullThroughUsage;
        _notFound = notFound;
        _upstreams = upstreams;
        _fills = fills;
        _upstreamManifests = upstreamManifests;
        _blobs = blobs;
        _repositories = repositories;
        _uploads = uploads;
        _auth = auth;
        _metrics = metrics;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _names = new NamespaceRule(_options.RegistryNames, upstreams.Registries.Select(r => r.Name), upstreams.DefaultUpstream);
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers[ApiVersionHeader] = "registry/2.0";
        try
        {
            var method = request.Method;
            var isWrite = !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method));
            var identity = isWrite ? Authenticate(context) : PushIdentity.Anonymous;
            switch (RegistryPath.TryParse(RawPath(context), out var path))
            {
                case RegistryPathStatus.NotFound:
                    throw new RegistryException(RegistryError.NameUnknown, "no such registry route", request.Path.Value);
                case RegistryPathStatus.NameInvalid:
                    throw new RegistryException(RegistryError.NameInvalid, "invalid repository name");
            }

            if (isWrite && !string.IsNullOrEmpty(path.Name) && !_auth.MayWrite(identity, path.Name))
            {
                throw new RegistryException(RegistryError.Denied, $"user {identity.Name} may not push to {path.Name}", path.Name);
            }

            if (isWrite && !string.IsNullOrEmpty(path.Name) && _upstreams.PulledThroughOwner(path.Name) is { } owner)
            {
                throw new RegistryException(RegistryError.Denied, $"repository {path.Name} holds content pulled through from upstream {owner} and cannot be pushed to or deleted from; push under a name whose first component is not '{UpstreamCatalog.LocalPrefix(owner)}'", path.Name);
            }

            await DispatchAsync(context, path, method).ConfigureAwait(false);
        }
        catch (RegistryException ex)
        {
            OriginLog.BadRequest(_logger, request.Method, request.Path.Value ?? "", ex.Message);
            await RegistryErrors.WriteAsync(context, ex.Error, ex.Message, ex.Detail, ex.Headers).ConfigureAwait(false);
        }
        catch (UploadTooLargeException ex)
        {
            await RegistryErrors.WriteAsync(context, RegistryError.TooLarge, ex.Message, null, []).ConfigureAwait(false);
        }
        catch (UploadLimitException ex)
        {
            OriginLog.BadRequest(_logger, request.Method, request.Path.Value ?? "", ex.Message);
            await RegistryErrors.WriteAsync(context, RegistryError.TooManyRequests, ex.Message, null, [new("Retry-After", "10")]).ConfigureAwait(false);
        }
        catch (IOException ex) when (!context.Response.HasStarted && _storageFull.IsFull(ex))
        {
            // Whoever wrote cleaned up after itself (upload session, manifest temp file, link temp file); reads go on.
            _storageFull.Report(WritePathOf(context), ex);
            _metrics.UploadRefused("disk_full");
            await StorageFullAsync(context).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own refusals (body too large, too slow, malformed chunking): the client's fault.
            OriginLog.BadRequest(_logger, request.Method, request.Path.Value ?? "", ex.Message);
            var error = new RegistryError(ex.StatusCode == 413 ? "SIZE_INVALID" : "BLOB_UPLOAD_INVALID", ex.StatusCode);
            await RegistryErrors.WriteAsync(context, error, ex.Message, null, []).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
    }

    /// <summary>The 507 a write refused for a full disk gets: clients retry later, when space may be back.</summary>
    private static Task StorageFullAsync(HttpContext context) =>
        RegistryErrors.WriteAsync(context, RegistryError.InsufficientStorage, "insufficient storage: the registry's disk is full", null, [new("Retry-After", "60")]);

    /// <summary>The write path a request that hit a full disk was on (the <c>disk_full</c> metric's label).</summary>
    private static string WritePathOf(HttpContext context)
    {
        var raw = RawPath(context);
        return raw.Contains("/blobs/uploads", StringComparison.Ordinal) ? "upload"
            : raw.Contains("/manifests/", StringComparison.Ordinal) ? "manifest"
            : raw.Contains("/blobs/", StringComparison.Ordinal) ? "metainfo"
            : "link";
    }

    private Task DispatchAsync(HttpContext context, RegistryPath path, string method)
    {
        var get = HttpMethods.IsGet(method);
        var head = HttpMethods.IsHead(method);
        return path.Route switch
        {
            RegistryRoute.Base when get || head => BaseAsync(context),
            RegistryRoute.Manifest when get || head => GetManifestAsync(context, path, head),
            RegistryRoute.Manifest when HttpMethods.IsPut(method) => PutManifestAsync(context, path),
            RegistryRoute.Manifest when HttpMethods.IsDelete(method) => DeleteManifest(context, path),
            RegistryRoute.Blob when get || head => GetBlobAsync(context, path, head),
            RegistryRoute.Blob when HttpMethods.IsDelete(method) => DeleteBlob(context, path),
            RegistryRoute.TagsList when get || head => ListTagsAsync(context, path, head),
            RegistryRoute.Referrers when get || head => ListReferrersAsync(context, path, head),
            RegistryRoute.Catalog when get || head => ListCatalogAsync(context, head),
            RegistryRoute.UploadStart when HttpMethods.IsPost(method) => StartUploadAsync(context, path),
            RegistryRoute.Upload when get || head => GetUploadStatus(context, path),
            RegistryRoute.Upload when HttpMethods.IsPatch(method) => PatchUploadAsync(context, path),
            RegistryRoute.Upload when HttpMethods.IsPut(method) => PutUploadAsync(context, path),
            RegistryRoute.Upload when HttpMethods.IsDelete(method) => CancelUpload(context, path),
            _ => throw new RegistryException(RegistryError.Unsupported, $"{method} is not supported here"),
        };
    }

    private Task BaseAsync(HttpContext context)
    {
        // Push credentials make the version check answer 401 to a request without them: Docker-style
        // clients (containers/image, docker) only send credentials after they saw a challenge here.
        // Pulls of manifests, blobs and tags stay anonymous.
        if (_auth.ChallengesAnonymous)
        {
            Authenticate(context);
        }

        return RegistryResponses.WriteJsonAsync(context, 200, "{}"u8.ToArray(), HttpMethods.IsHead(context.Request.Method));
    }

    /// <summary>The request's push identity; refuses (401, or 429 for a throttled client) unless it is anonymous-allowed or a verified user.</summary>
    private PushIdentity Authenticate(HttpContext context)
    {
        var identity = _auth.Authenticate(context.Request.Headers.Authorization.ToString(), context.Connection.RemoteIpAddress);
        switch (identity.Kind)
        {
            case PushIdentityKind.Throttled:
                throw PushAuthenticator.Throttled(identity.RetryAfter);
            case PushIdentityKind.Missing or PushIdentityKind.Invalid:
                // Not logged when missing: the challenge is how every Docker-style client learns to send credentials.
                // Refused credentials were logged (user and client, never the password) by the authenticator.
                throw PushAuthenticator.Unauthorized("authentication required to push");
            default:
                return identity;
        }
    }

    public static bool IsRegistryRequest(HttpContext context)
    {
        var raw = RawPath(context);
        return raw.StartsWith("/v2/", StringComparison.Ordinal) || raw == "/v2" || raw.StartsWith("/v2?", StringComparison.Ordinal);
    }
}

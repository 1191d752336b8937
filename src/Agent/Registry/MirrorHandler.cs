using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Configuration;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Agent.Manifests;
using P2PRegistry.Agent.Tracking;
using P2PRegistry.Core.Content;
using P2PRegistry.Distribution;
using P2PRegistry.Hosting.Storage;
using static P2PRegistry.Distribution.RegistryRequest;

namespace P2PRegistry.Agent.Registry;

/// <summary>
/// The registry v2 pull API of the node-local mirror (see REGISTRY.md, "Agent"): parses the raw target from
/// the right, dispatches, and turns refusals into the OCI error body. Push methods are refused (405): the
/// mirror is read-only.
/// </summary>
internal sealed partial class MirrorHandler
{
    private readonly OriginManifestClient _origin;
    private readonly OriginListingClient _listings;
    private readonly ManifestCache _manifests;
    private readonly BlobCache _cache;
    private readonly CacheVerifier _verifier;
    private readonly BlobFetcher _fetcher;
    private readonly IMetaInfoSource _metaInfos;
    private readonly AnnounceWatch _announces;
    private readonly OriginBlobClient _originBlobs;
    private readonly AgentMetrics _metrics;
    private readonly AgentOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<MirrorHandler> _logger;
    private readonly DiskFullReporter _diskFull;
    private readonly TrackerDirectory _trackers;
    private readonly MissRule _missRule;

    public MirrorHandler(OriginManifestClient origin, OriginListingClient listings, ManifestCache manifests, BlobCache cache, CacheVerifier verifier, BlobFetcher fetcher, IMetaInfoSource metaInfos, AnnounceWatch announces, OriginBlobClient originBlobs,
        AgentMetrics metrics, IOptions<AgentOptions> options, TimeProvider time, ILogger<MirrorHandler> logger, DiskFullReporter diskFull, TrackerDirectory trackers)
    {
        _trackers = trackers;
        _missRule = new MissRule(options.Value.MissTimeout, options.Value.SourceTimeout);
        _diskFull = diskFull;
        _origin = origin;
        _listings = listings;
        _manifests = manifests;
        _cache = cache;
        _verifier = verifier;
        _fetcher = fetcher;
        _metaInfos = metaInfos;
        _announces = announces;
        _originBlobs = originBlobs;
        _metrics = metrics;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public static bool IsRegistryRequest(HttpContext context)
    {
        var raw = RawPath(context);
        return raw.StartsWith("/v2/", StringComparison.Ordinal) || raw == "/v2" || raw.StartsWith("/v2?", StringComparison.Ordinal);
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers[RegistryHeaders.ApiVersion] = "registry/2.0";
        try
        {
            switch (RegistryPath.TryParse(RawPath(context), out var path))
            {
                case RegistryPathStatus.NotFound:
                    throw new RegistryException(RegistryError.NameUnknown, "no such registry route", request.Path.Value);
                case RegistryPathStatus.NameInvalid:
                    throw new RegistryException(RegistryError.NameInvalid, "invalid repository name");
            }

            var method = request.Method;
            var get = HttpMethods.IsGet(method);
            var head = HttpMethods.IsHead(method);
            await (path.Route switch
            {
                RegistryRoute.Base when get || head => RegistryResponses.WriteJsonAsync(context, 200, "{}"u8.ToArray(), head),
                RegistryRoute.Manifest when get || head => GetManifestAsync(context, path, head),
                RegistryRoute.Blob when get || head => GetBlobAsync(context, path, head),
                RegistryRoute.TagsList or RegistryRoute.Referrers when get || head => PassListingAsync(context, path, head),
                _ => throw new RegistryException(RegistryError.Unsupported, $"{method} is not supported: this mirror is read-only"),
            }).ConfigureAwait(false);
        }
        catch (RegistryException ex)
        {
            AgentLog.BadRequest(_logger, request.Method, request.Path.Value ?? "", ex.Message);
            await RegistryErrors.WriteAsync(context, ex.Error, ex.Message, ex.Detail, ex.Headers).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer. A download it started goes on.
        }
    }

    /// <summary>
    /// The upstream registry of the request: <c>?ns=</c> (containerd sends it to mirrors, URL-encoded), else
    /// the configured default. Passed to the origin as it is.
    /// </summary>
    private string Namespace(HttpContext context)
    {
        var ns = context.Request.Query["ns"];
        if (ns.Count == 0 || string.IsNullOrEmpty(ns[0]))
        {
            return _options.DefaultRegistry;
        }

        var value = ns[0]!;
        if (value.Length > 255 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']'))
        {
            throw new RegistryException(RegistryError.NameInvalid, "invalid ns parameter: expected a registry host[:port]", value.Length > 100 ? value[..100] : value);
        }

        return value;
    }

    /// <summary>
    /// The repository as the upstream knows it. Docker Hub keeps its official images under <c>library/</c>: docker
    /// and containerd add it before asking a mirror, but a client that sends a one-part name (<c>busybox</c>) would
    /// otherwise find nothing upstream.
    /// </summary>
    internal static string UpstreamRepository(string name, string ns) =>
        !name.Contains('/', StringComparison.Ordinal) && ns is "docker.io" or "index.docker.io" or "registry-1.docker.io" ? "library/" + name : name;
}

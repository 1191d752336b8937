using System.Net;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.Health;
using P2PRegistry.Core.Placement;

namespace P2PRegistry.Agent.Origins;

/// <summary>
/// Sends each origin request (GET/HEAD: manifests, listings, blob reads) to one of a cluster's origins
/// (<c>Agent:OriginUrls</c>), trying the next when one cannot be reached or answers 502/503/504. A request naming a blob
/// digest (<c>…/blobs/sha256:…</c>, <c>…/metainfo/sha256:…</c>) tries the blob's owners first (rendezvous order over the
/// URLs, as the origins place blobs), others the URLs in the order configured. An origin that failed is tried last for
/// <see cref="DownTime"/> (passive health). Every origin serves every manifest and proxies blobs it does not hold, so
/// the order only saves a hop.
/// </summary>
internal sealed class OriginFailoverHandler : DelegatingHandler
{
    public static readonly TimeSpan DownTime = TimeSpan.FromSeconds(30);

    private readonly Uri[] _origins;
    private readonly RendezvousRing _ring;
    private readonly PassiveHealth<int> _health;

    public OriginFailoverHandler(IReadOnlyList<string> originUrls, HttpMessageHandler inner, TimeProvider time)
        : base(inner)
    {
        // Node ids as the origins spell their members (RendezvousRing.NodeId), so this ranking is theirs.
        var trimmed = originUrls.Select(RendezvousRing.NodeId).ToList();
        _origins = [.. trimmed.Select(u => new Uri(u + "/"))];
        _ring = new RendezvousRing(trimmed);
        _health = new PassiveHealth<int>(time, DownTime, DownTime);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var target = request.RequestUri ?? throw new InvalidOperationException("An origin request needs a URI.");
        if (request.Content is not null || !(request.Method == HttpMethod.Get || request.Method == HttpMethod.Head))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var order = Order(target);
        for (var attempt = 0; ; attempt++)
        {
            var origin = order[attempt];
            request.RequestUri = new Uri(_origins[origin], target.PathAndQuery.TrimStart('/'));
            var last = attempt == order.Length - 1;
            try
            {
                var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (last || response.StatusCode is not (HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout))
                {
                    _health.Succeeded(origin);
                    return response;
                }

                response.Dispose();
            }
            catch (HttpRequestException) when (!last && !cancellationToken.IsCancellationRequested)
            {
            }

            _health.Failed(origin);
        }
    }

    /// <summary>The origins to try, best first: healthy ones in placement (or configured) order, then the failed ones.</summary>
    private int[] Order(Uri target)
    {
        var path = target.AbsolutePath;
        var slash = path.LastIndexOf('/');
        int[] order = slash >= 0 && Digest.TryParse(Uri.UnescapeDataString(path[(slash + 1)..]), out var digest)
            ? _ring.Rank(digest.Value)
            : [.. Enumerable.Range(0, _origins.Length)];
        return [.. order.OrderBy(origin => !_health.IsAvailable(origin))];
    }
}

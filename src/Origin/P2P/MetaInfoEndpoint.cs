using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Registry;
using P2PRegistry.Origin.Seeding;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.P2P;

/// <summary>
/// <c>GET /p2p/v1/metainfo/&lt;digest&gt;</c>: the bencoded BEP 3 info dict of a stored blob, which the
/// tracker hands to agents. <c>X-P2P-Info-Hash</c> carries its SHA-1 so callers need not recompute it.
/// </summary>
internal static class MetaInfoEndpoint
{
    public const string Route = "/p2p/v1/metainfo/{digest}";
    public const string ContentType = "application/x-bittorrent-info";
    public const string InfoHashHeader = "X-P2P-Info-Hash";

    /// <summary>The origin's peer endpoint (<c>address:port</c>): the tracker records it as the seed of the swarm.</summary>
    public const string OriginPeerHeader = "X-P2P-Origin-Peer";

    public static async Task HandleAsync(HttpContext context, string digest, BlobStore blobs, PeerListener? peer = null, SeedIndex? seeds = null, Cluster.OriginCluster? cluster = null)
    {
        if (Digest.Validate(digest, out var parsed) != DigestParseStatus.Ok)
        {
            await RegistryErrors.WriteAsync(context, RegistryError.DigestInvalid, "invalid digest", digest.Length > 100 ? digest[..100] : digest).ConfigureAwait(false);
            return;
        }

        var metaInfo = await blobs.GetMetaInfoAsync(parsed, context.RequestAborted).ConfigureAwait(false);
        // In a cluster a member that does not hold the blob answers from an owner, whose peer port seeds it.
        if (metaInfo is null && cluster is not null
            && await cluster.TryProxyAsync(context, parsed, Cluster.ClusterEndpoints.MetaInfoPath(parsed), HttpMethods.IsHead(context.Request.Method)).ConfigureAwait(false))
        {
            return;
        }

        if (metaInfo is null)
        {
            await RegistryErrors.WriteAsync(context, RegistryError.BlobUnknown, "blob unknown to registry", parsed.Value).ConfigureAwait(false);
            return;
        }

        // Covers metainfos recomputed on demand: whoever learns this info hash can then be served by the peer port.
        seeds?.Add(metaInfo);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.ContentLength = metaInfo.Encoded.Length;
        response.Headers[InfoHashHeader] = metaInfo.InfoHash.ToHex();
        response.Headers[RegistryHandler.ContentDigestHeader] = parsed.Value;
        if (peer?.AdvertisedEndPoint is { } endPoint)
        {
            response.Headers[OriginPeerHeader] = endPoint;
        }
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(metaInfo.Encoded, context.RequestAborted).ConfigureAwait(false);
        }
    }
}

using System.Net;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Placement;

namespace P2PRegistry.Tracker.MetaInfos;

/// <summary>
/// Asks the origin for a blob's metainfo: <c>GET /p2p/v1/metainfo/&lt;digest&gt;[?ns=&lt;ns&gt;]</c> answers 200 with the
/// bencoded info dictionary (header <c>X-P2P-Info-Hash</c>: its SHA-1 in hex) or 404. Nothing the origin says is
/// trusted: the body must decode as a MetaInfo named by the requested digest, hashing to the announced info hash.
/// </summary>
/// <remarks>
/// With a cluster of origins (<c>Tracker:OriginUrls</c>) the blob's members are ranked by rendezvous hashing of the digest
/// over the URLs (as the origins rank them): the metainfo comes from the first that answers, and the peer endpoints of
/// the first R that answer become the swarm's ORIGIN seeds. An origin that fails is skipped: the next one holds a copy
/// while it is away.
/// </remarks>
internal sealed class OriginMetaInfoClient(HttpClient httpClient, IReadOnlyList<string>? originUrls = null, int replicationFactor = 1)
{
    public const string InfoHashHeader = "X-P2P-Info-Hash";

    /// <summary>The origin's BitTorrent peer endpoint (<c>address:port</c>): it seeds the blob from there.</summary>
    public const string OriginPeerHeader = "X-P2P-Origin-Peer";

    // Node ids as the origins spell their members (RendezvousRing.NodeId), so this ranking is theirs; each is also a base URL.
    private readonly string[] _origins = originUrls is { Count: > 1 } ? [.. originUrls.Select(RendezvousRing.NodeId)] : [];
    private readonly RendezvousRing? _ring = originUrls is { Count: > 1 } ? new RendezvousRing([.. originUrls.Select(RendezvousRing.NodeId)]) : null;

    public async Task<OriginMetaInfo> FetchAsync(Digest digest, string? ns, CancellationToken cancellationToken)
    {
        if (_ring is null)
        {
            return await FetchFromAsync(null, digest, ns, cancellationToken).ConfigureAwait(false);
        }

        MetaInfo? metaInfo = null;
        var peers = new List<IPEndPoint>();
        var answered = 0;
        MetaInfoException? failure = null;
        foreach (var member in _ring.Rank(digest.Value))
        {
            if (answered == replicationFactor)
            {
                break;
            }

            try
            {
                var fetched = await FetchFromAsync(_origins[member] + "/", digest, ns, cancellationToken).ConfigureAwait(false);
                if (metaInfo is not null && fetched.MetaInfo.InfoHash != metaInfo.InfoHash)
                {
                    throw new MetaInfoException(digest, MetaInfoFailure.Invalid, $"Origin {_origins[member]} answered another metainfo for {digest} than the first origin.");
                }

                metaInfo ??= fetched.MetaInfo;
                answered++;
                if (fetched.OriginPeer is { } peer && !peers.Contains(peer))
                {
                    peers.Add(peer);
                }
            }
            catch (MetaInfoException ex)
            {
                // Unavailable beats not found: a 404 from a member the blob never reached says nothing while its owner is down.
                failure = failure is { Failure: MetaInfoFailure.Unavailable } ? failure : ex;
            }
        }

        return metaInfo is not null
            ? new OriginMetaInfo(metaInfo, peers.FirstOrDefault(), peers)
            : throw failure ?? new MetaInfoException(digest, MetaInfoFailure.Unavailable, "No origin answered.");
    }

    private async Task<OriginMetaInfo> FetchFromAsync(string? baseUrl, Digest digest, string? ns, CancellationToken cancellationToken)
    {
        var path = baseUrl + "p2p/v1/metainfo/" + digest.Value;
        if (!string.IsNullOrEmpty(ns))
        {
            path += "?ns=" + Uri.EscapeDataString(ns);
        }

        byte[] body;
        string? announcedHash;
        IPEndPoint? originPeer;
        try
        {
            using var response = await httpClient.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new MetaInfoException(digest, MetaInfoFailure.NotFound, $"The origin has no blob {digest}.");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new MetaInfoException(digest, MetaInfoFailure.Unavailable, $"The origin answered {(int)response.StatusCode} for the metainfo of {digest}.");
            }

            announcedHash = response.Headers.TryGetValues(InfoHashHeader, out var values) ? values.FirstOrDefault() : null;
            originPeer = ParseOriginPeer(response.Headers.TryGetValues(OriginPeerHeader, out var peers) ? peers.FirstOrDefault() : null);
            body = await ReadBoundedAsync(digest, response.Content, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new MetaInfoException(digest, MetaInfoFailure.Unavailable, $"The origin could not be reached: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout surfaces as a cancellation the caller did not ask for.
            throw new MetaInfoException(digest, MetaInfoFailure.Unavailable, $"The origin did not answer within {httpClient.Timeout.TotalSeconds:0.#} s.", ex);
        }

        return new OriginMetaInfo(Validate(digest, body, announcedHash), originPeer);
    }

    /// <summary>A literal <c>address:port</c>; anything else (absent, a host name, port 0) means the origin does not seed.</summary>
    internal static IPEndPoint? ParseOriginPeer(string? value) =>
        IPEndPoint.TryParse(value ?? "", out var endPoint) && endPoint.Port != 0 && !endPoint.Address.Equals(IPAddress.Any) && !endPoint.Address.Equals(IPAddress.IPv6Any)
            ? endPoint
            : null;

    /// <summary>The checks that keep a confused or hostile origin from putting peers in the wrong swarm.</summary>
    internal static MetaInfo Validate(Digest digest, byte[] body, string? announcedHash)
    {
        MetaInfo metaInfo;
        try
        {
            metaInfo = MetaInfo.Decode(body);
        }
        catch (FormatException ex)
        {
            throw new MetaInfoException(digest, MetaInfoFailure.Invalid, $"The origin's metainfo for {digest} does not decode: {ex.Message}", ex);
        }

        if (metaInfo.Digest != digest)
        {
            throw new MetaInfoException(digest, MetaInfoFailure.Invalid, $"The origin answered the metainfo of {metaInfo.Digest} when asked for {digest}.");
        }

        if (announcedHash is not null)
        {
            if (!InfoHash.TryParseHex(announcedHash.ToLowerInvariant(), out var announced) || announced != metaInfo.InfoHash)
            {
                throw new MetaInfoException(digest, MetaInfoFailure.Invalid, $"The origin's {InfoHashHeader} '{announcedHash}' is not the info hash {metaInfo.InfoHash} of the body it sent for {digest}.");
            }
        }

        return metaInfo;
    }

    // Check the length before buffering: an info dictionary is never larger than MetaInfo.MaxEncodedLength.
    private static async Task<byte[]> ReadBoundedAsync(Digest digest, HttpContent content, CancellationToken cancellationToken)
    {
        const int Limit = MetaInfo.MaxEncodedLength;
        if (content.Headers.ContentLength is long declared && declared > Limit)
        {
            throw new MetaInfoException(digest, MetaInfoFailure.Invalid, $"The origin's metainfo for {digest} is {declared} bytes, over the {Limit}-byte limit.");
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream(content.Headers.ContentLength is long length ? (int)length : 4096);
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > Limit)
                {
                    throw new MetaInfoException(digest, MetaInfoFailure.Invalid, $"The origin's metainfo for {digest} runs over the {Limit}-byte limit.");
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }
}

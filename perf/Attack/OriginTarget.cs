using System.Net;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Attack;

/// <summary>
/// What an attacker learns from the origin's public metainfo endpoint (<c>GET /p2p/v1/metainfo/&lt;digest&gt;</c>):
/// the blob's piece layout and info hash, and the peer endpoint the origin advertises (<c>X-P2P-Origin-Peer</c>).
/// </summary>
internal sealed record OriginTarget(MetaInfo MetaInfo, IPEndPoint PeerEndPoint)
{
    public static async Task<OriginTarget> FetchAsync(Uri origin, string digest, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = origin, Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync(new Uri($"/p2p/v1/metainfo/{digest}", UriKind.Relative), cancellationToken);
        response.EnsureSuccessStatusCode();
        var encoded = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var metaInfo = MetaInfo.Decode(encoded);
        if (!response.Headers.TryGetValues("X-P2P-Origin-Peer", out var peers) || !IPEndPoint.TryParse(peers.First(), out var endPoint))
        {
            throw new InvalidOperationException("The origin did not advertise its peer endpoint (X-P2P-Origin-Peer).");
        }

        // The header is informational; the hash of the bytes is what the origin's peer port checks.
        if (response.Headers.TryGetValues("X-P2P-Info-Hash", out var hashes) && !string.Equals(hashes.First(), metaInfo.InfoHash.ToHex(), StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"X-P2P-Info-Hash {hashes.First()} is not the SHA-1 of the served info dictionary ({metaInfo.InfoHash.ToHex()}).");
        }

        return new OriginTarget(metaInfo, endPoint);
    }
}

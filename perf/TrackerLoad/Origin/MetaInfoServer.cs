using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.TrackerLoad.Origin;

/// <summary>
/// The origin's metainfo endpoint and nothing else (src/Tracker/README.md "Origin contract"):
/// <c>GET /p2p/v1/metainfo/&lt;digest&gt;</c> → the bencoded info dict with <c>X-P2P-Info-Hash</c> and
/// <c>X-P2P-Origin-Peer</c> (so every handout ends with the origin, as with a real origin), 404 for any other digest.
/// The tracker asks once per digest, during the warm-up.
/// </summary>
internal sealed class MetaInfoServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _served;

    private MetaInfoServer(WebApplication app) => _app = app;

    public int Served => Volatile.Read(ref _served);

    public static async Task<MetaInfoServer> StartAsync(IPEndPoint endPoint, IReadOnlyList<MetaInfo> metaInfos, IPEndPoint originPeer)
    {
        var byDigest = metaInfos.ToDictionary(m => m.Digest.Value, StringComparer.Ordinal);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(endPoint));
        var app = builder.Build();
        var server = new MetaInfoServer(app);
        var peerHeader = originPeer.ToString();
        app.MapGet("/p2p/v1/metainfo/{digest}", async (string digest, HttpContext context) =>
        {
            if (!byDigest.TryGetValue(digest, out var metaInfo))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            Interlocked.Increment(ref server._served);
            context.Response.Headers["X-P2P-Info-Hash"] = metaInfo.InfoHash.ToHex();
            context.Response.Headers["X-P2P-Origin-Peer"] = peerHeader;
            context.Response.ContentType = "application/x-bittorrent";
            context.Response.ContentLength = metaInfo.Encoded.Length;
            await context.Response.Body.WriteAsync(metaInfo.Encoded).ConfigureAwait(false);
        });
        await app.StartAsync().ConfigureAwait(false);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

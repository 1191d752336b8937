using System.Buffers;
using Microsoft.Extensions.Options;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.Content;
using P2PRegistry.Tracker.Admission;
using P2PRegistry.Tracker.Announcing;
using P2PRegistry.Tracker.Diagnostics;
using P2PRegistry.Tracker.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Bep3;

/// <summary>The HTTP face of the tracker for standard BitTorrent clients (aria2c, libtorrent…).</summary>
internal static class Bep3Endpoints
{
    public const string AnnouncePath = "/announce";
    public const string TorrentPathPrefix = "/p2p/v1/torrent/";

    public static IEndpointRouteBuilder MapBep3(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(AnnouncePath, AnnounceAsync);
        endpoints.MapGet(TorrentPathPrefix + "{digest}", TorrentAsync);
        return endpoints;
    }

    private static async Task AnnounceAsync(
        HttpContext context,
        AnnounceService announcer,
        IAnnouncerAuthority authority,
        ILogger<AnnounceService> logger)
    {
        var cancellationToken = context.RequestAborted;

        // The raw (still percent-encoded) query: info_hash and peer_id are bytes, not text.
        if (!RawQuery.TryParse(context.Request.QueryString.Value, out var query, out var failure) ||
            !Bep3AnnounceRequest.TryParse(query, out var request, out failure))
        {
            logger.HttpAnnounceRefused(context.Connection.RemoteIpAddress?.ToString() ?? "?", failure);
            await FailAsync(context, failure).ConfigureAwait(false);
            return;
        }

        // A BEP 3 client is always an agent: the origin role exists only on the gRPC face.
        var claim = new AnnounceClaim(
            request.InfoHash,
            request.PeerId,
            request.ClaimedAddress,
            request.Port,
            PeerRole.Agent,
            Complete: request.Left == 0,
            request.Left,
            request.Event,
            request.NumWant);
        var decision = await announcer.AnnounceAsync(claim, authority.Identify(context), "http", cancellationToken).ConfigureAwait(false);
        if (decision.Refused)
        {
            await FailAsync(context, decision.Reason).ConfigureAwait(false);
            return;
        }

        var result = decision.Result;
        var body = new ArrayBufferWriter<byte>(256);
        Bep3Response.WriteAnnounce(body, result.Interval, result.MinInterval, result.Peers, request.Compact);
        await WriteAsync(context, "text/plain", body, cancellationToken).ConfigureAwait(false);
    }

    // A .torrent for one blob, so a standard client can join its swarm: d8:announce<url>4:info<info dict>e.
    private static async Task<IResult> TorrentAsync(
        HttpContext context,
        string digest,
        MetaInfoService metaInfos,
        IOptions<TrackerOptions> options)
    {
        if (!Digest.TryParse(digest, out var parsed))
        {
            return Results.Text($"Malformed digest '{digest}'.", statusCode: StatusCodes.Status400BadRequest);
        }

        try
        {
            var ns = context.Request.Query["ns"].ToString();
            var metaInfo = await metaInfos.GetAsync(parsed, ns, context.RequestAborted).ConfigureAwait(false);
            var announceUrl = string.IsNullOrEmpty(options.Value.AnnounceUrl)
                ? $"{context.Request.Scheme}://{context.Request.Host}{AnnouncePath}"
                : options.Value.AnnounceUrl;

            var body = new ArrayBufferWriter<byte>(metaInfo.Encoded.Length + announceUrl.Length + 32);
            WriteTorrent(body, announceUrl, metaInfo.Encoded.Span);
            return Results.Bytes(body.WrittenMemory, "application/x-bittorrent");
        }
        catch (MetaInfoException ex)
        {
            return ex.Failure switch
            {
                MetaInfoFailure.NotFound => Results.Text(ex.Message, statusCode: StatusCodes.Status404NotFound),
                MetaInfoFailure.Unavailable => Results.Text(ex.Message, statusCode: StatusCodes.Status503ServiceUnavailable),
                _ => Results.Text(ex.Message, statusCode: StatusCodes.Status502BadGateway),
            };
        }
    }

    internal static void WriteTorrent(IBufferWriter<byte> output, string announceUrl, ReadOnlySpan<byte> encodedInfo)
    {
        var writer = new BencodeWriter(output);
        writer.WriteStartDictionary();
        writer.WriteString("announce"u8);
        writer.WriteString(announceUrl);
        writer.WriteString("info"u8);
        writer.WriteRaw(encodedInfo);
        writer.WriteEnd();
    }

    private static Task FailAsync(HttpContext context, string reason)
    {
        var body = new ArrayBufferWriter<byte>(64 + reason.Length);
        Bep3Response.WriteFailure(body, reason);
        return WriteAsync(context, "text/plain", body, context.RequestAborted);
    }

    private static async Task WriteAsync(HttpContext context, string contentType, ArrayBufferWriter<byte> body, CancellationToken cancellationToken)
    {
        // BEP 3: errors too are 200 with a bencoded body, which is what clients parse.
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.WrittenCount;
        await context.Response.Body.WriteAsync(body.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }
}

using System.Globalization;
using System.Text;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm.Tracking;

/// <summary>
/// Announces to a BEP 3 HTTP tracker (<c>GET /announce?info_hash=…</c>, compact answers per BEP 23), so the
/// engine can share a swarm with standard BitTorrent clients through a standard tracker (e.g. opentracker).
/// </summary>
public sealed class HttpTrackerClient : ITrackerClient
{
    private readonly HttpClient _http;
    private readonly Uri _announce;

    public HttpTrackerClient(HttpClient http, Uri announce)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        _announce = announce ?? throw new ArgumentNullException(nameof(announce));
    }

    public async Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(BuildUri(_announce, infoHash, peerId, port, bytesLeft, announceEvent), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        if (response.Content.Headers.ContentLength > TrackerResponse.MaxLength)
        {
            throw new TrackerException($"Tracker response of {response.Content.Headers.ContentLength} bytes exceeds {TrackerResponse.MaxLength}.");
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var body = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (body.Length + read > TrackerResponse.MaxLength)
                {
                    throw new TrackerException($"Tracker response exceeds {TrackerResponse.MaxLength} bytes.");
                }

                body.Write(buffer, 0, read);
            }

            return TrackerResponse.Parse(body.GetBuffer().AsMemory(0, (int)body.Length));
        }
    }

    /// <summary>BEP 3 query: binary values are percent-encoded byte by byte.</summary>
    internal static Uri BuildUri(Uri announce, InfoHash infoHash, PeerId peerId, int port, long bytesLeft, AnnounceEvent announceEvent)
    {
        var query = new StringBuilder(announce.OriginalString);
        query.Append(announce.Query.Length > 0 ? '&' : '?');
        query.Append("info_hash=");
        AppendEscaped(query, infoHash.ToArray());
        query.Append("&peer_id=");
        AppendEscaped(query, peerId.ToArray());
        query.Append(CultureInfo.InvariantCulture, $"&port={port}&uploaded=0&downloaded=0&left={bytesLeft}&compact=1&numwant=50");
        var name = announceEvent switch
        {
            AnnounceEvent.Started => "started",
            AnnounceEvent.Completed => "completed",
            AnnounceEvent.Stopped => "stopped",
            _ => null,
        };
        if (name is not null)
        {
            query.Append("&event=").Append(name);
        }

        return new Uri(query.ToString());
    }

    private static void AppendEscaped(StringBuilder builder, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }
}

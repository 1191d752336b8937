using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Peers;

namespace P2PRegistry.Tracker.Bep3;

/// <summary>
/// A BEP 3 announce: <c>GET /announce?info_hash=&lt;20 bytes&gt;&amp;peer_id=&lt;20 bytes&gt;&amp;port=…&amp;uploaded=…&amp;downloaded=…
/// &amp;left=…[&amp;event=started|completed|stopped][&amp;compact=0|1][&amp;numwant=…][&amp;ip=…]</c>. Unknown parameters
/// (<c>key</c>, <c>supportcrypto</c>, <c>no_peer_id</c>…) are ignored.
/// </summary>
internal sealed record Bep3AnnounceRequest(
    InfoHash InfoHash,
    PeerId PeerId,
    IPAddress? ClaimedAddress,
    int Port,
    long Uploaded,
    long Downloaded,
    long Left,
    AnnounceEvent Event,
    bool Compact,
    int NumWant)
{
    /// <summary>Reads an announce from a decoded query; <c>ip</c>, if any, is a claim the announce checks judge.</summary>
    public static bool TryParse(RawQuery query, [NotNullWhen(true)] out Bep3AnnounceRequest? request, [NotNullWhen(false)] out string? failure)
    {
        request = null;
        if (!query.TryGetBytes("info_hash", out var infoHashBytes) || infoHashBytes.Length != InfoHash.Length)
        {
            failure = "info_hash must be 20 bytes";
            return false;
        }

        if (!query.TryGetBytes("peer_id", out var peerIdBytes) || peerIdBytes.Length != PeerId.Length)
        {
            failure = "peer_id must be 20 bytes";
            return false;
        }

        if (!int.TryParse(query.GetAscii("port"), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            failure = "port must be 1..65535";
            return false;
        }

        if (!TryParseCount(query, "left", required: true, out var left) ||
            !TryParseCount(query, "uploaded", required: false, out var uploaded) ||
            !TryParseCount(query, "downloaded", required: false, out var downloaded))
        {
            failure = "left, uploaded and downloaded must be non-negative integers (left is required)";
            return false;
        }

        AnnounceEvent announceEvent;
        switch (query.GetAscii("event"))
        {
            case null or "" or "empty" or "paused":
                // BEP 21's "paused" still wants to stay listed: a regular announce.
                announceEvent = AnnounceEvent.None;
                break;
            case "started":
                announceEvent = AnnounceEvent.Started;
                break;
            case "completed":
                announceEvent = AnnounceEvent.Completed;
                break;
            case "stopped":
                announceEvent = AnnounceEvent.Stopped;
                break;
            default:
                failure = "event must be started, completed, stopped or empty";
                return false;
        }

        // BEP 23: compact is the default for us; only compact=0 asks for the dictionary list.
        var compact = query.GetAscii("compact") != "0";

        var numWant = 0;
        if (query.Contains("numwant") &&
            !int.TryParse(query.GetAscii("numwant"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out numWant))
        {
            failure = "numwant must be an integer";
            return false;
        }

        // Some clients send numwant=-1 for "the tracker's default".
        numWant = Math.Max(0, numWant);

        IPAddress? address = null;
        var ip = query.GetAscii("ip");
        if (!string.IsNullOrEmpty(ip))
        {
            // BEP 3 allows a DNS name here; the tracker resolves nothing, so only literal addresses are taken.
            if (!IPAddress.TryParse(ip, out address))
            {
                failure = "ip must be a literal IPv4 or IPv6 address";
                return false;
            }
        }

        request = new Bep3AnnounceRequest(
            new InfoHash(infoHashBytes), new PeerId(peerIdBytes), address, port, uploaded, downloaded, left, announceEvent, compact, numWant);
        failure = null;
        return true;
    }

    private static bool TryParseCount(RawQuery query, string name, bool required, out long value)
    {
        value = 0;
        var text = query.GetAscii(name);
        if (text is null)
        {
            return !required && !query.Contains(name);
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}

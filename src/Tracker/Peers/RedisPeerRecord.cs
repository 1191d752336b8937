using System.Globalization;
using System.Net;
using P2PRegistry.Hosting;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// A <see cref="PeerRecord"/> as the value of its swarm's hash in Redis, one line of text:
/// <c>&lt;address&gt; &lt;quota key&gt; &lt;port&gt; &lt;role 0|1&gt; &lt;complete 0|1&gt; &lt;bytes left&gt; &lt;zone length&gt;:&lt;zone&gt;&lt;rack&gt;</c>.
/// The scripts read the first two fields (owner and quota key, neither holds a space); the labels come last,
/// length-prefixed, so they may hold any character. The last-seen time is the peer's score in the sorted set.
/// </summary>
internal static class RedisPeerRecord
{
    /// <summary>The per-address quota key (<see cref="ClientKey"/>: IPv6 by its /64), as text.</summary>
    public static string QuotaKey(IPAddress address) => ClientKey.Of(address).ToString();

    public static string Encode(PeerRecord peer) => string.Create(CultureInfo.InvariantCulture,
        $"{peer.Address} {QuotaKey(peer.Address)} {peer.Port} {(peer.Role == PeerRole.Origin ? 1 : 0)} {(peer.Complete ? 1 : 0)} {peer.BytesLeft} {peer.Locality.Zone.Length}:{peer.Locality.Zone}{peer.Locality.Rack}");

    /// <summary>Decodes a value written by <see cref="Encode"/>; false for anything else (the key space is shared, so check).</summary>
    public static bool TryDecode(PeerId id, string value, DateTimeOffset lastSeen, out PeerRecord peer)
    {
        peer = null!;
        Span<Range> fields = stackalloc Range[7];
        var text = value.AsSpan();
        if (text.Split(fields, ' ', StringSplitOptions.None) != 7)
        {
            return false;
        }

        var labels = text[fields[6]];
        var colon = labels.IndexOf(':');
        if (!IPAddress.TryParse(text[fields[0]], out var address)
            || !int.TryParse(text[fields[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535
            || text[fields[3]] is not ("0" or "1")
            || text[fields[4]] is not ("0" or "1")
            || !long.TryParse(text[fields[5]], NumberStyles.None, CultureInfo.InvariantCulture, out var bytesLeft)
            || colon < 0
            || !int.TryParse(labels[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var zoneLength)
            || zoneLength > labels.Length - colon - 1)
        {
            return false;
        }

        var rest = labels[(colon + 1)..];
        var locality = rest.Length == 0 ? PeerLocality.Unknown : new PeerLocality(rest[..zoneLength].ToString(), rest[zoneLength..].ToString());
        peer = new PeerRecord(id, address, port, text[fields[3]] is "1" ? PeerRole.Origin : PeerRole.Agent, text[fields[4]] is "1", bytesLeft, lastSeen)
        {
            Locality = locality,
        };
        return true;
    }
}

using System.Net;
using System.Text;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Tracker.Tests.InProcess;

/// <summary>BEP 3 announces as BitTorrent clients send them.</summary>
internal static class Bep3Announces
{
    /// <summary>As BitTorrent clients do: unreserved bytes literal, everything else %XX.</summary>
    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes)
        {
            text.Append(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~' ? ((char)b).ToString() : $"%{b:X2}");
        }

        return text.ToString();
    }

    /// <summary><c>GET announce?info_hash=…&amp;peer_id=…{rest}</c>: the bencoded answer, which BEP 3 sends with 200 even for a failure.</summary>
    public static async Task<BencodeDictionary> GetAsync(HttpClient client, InfoHash infoHash, ReadOnlyMemory<byte> peerId, string rest)
    {
        using var response = await client.GetAsync($"announce?info_hash={Escape(infoHash.ToArray())}&peer_id={Escape(peerId.Span)}{rest}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.IsType<BencodeDictionary>(BencodeDecoder.Decode(await response.Content.ReadAsByteArrayAsync()));
    }

    /// <summary>The failure reason of a refused announce, or null for an accepted one.</summary>
    public static string? Failure(BencodeDictionary answer) => answer.GetString("failure reason")?.Text;

    /// <summary>The peers of a compact answer (BEP 23) as ip:port.</summary>
    public static IReadOnlyList<IPEndPoint> CompactPeers(BencodeDictionary answer)
    {
        var bytes = answer.GetString("peers")?.Value.ToArray() ?? throw new InvalidOperationException("No peers in " + Failure(answer));
        var peers = new List<IPEndPoint>();
        for (var i = 0; i + 6 <= bytes.Length; i += 6)
        {
            peers.Add(new IPEndPoint(new IPAddress(bytes.AsSpan(i, 4)), (bytes[i + 4] << 8) | bytes[i + 5]));
        }

        return peers;
    }
}

using System.Buffers.Binary;
using System.Net;
using P2PRegistry.Core.Bencoding;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm.Tracking;

/// <summary>
/// Parses a BEP 3 HTTP tracker response: a bencoded dictionary with <c>failure reason</c>, or
/// <c>interval</c> and <c>peers</c> — compact (BEP 23: 6 bytes per peer, IPv4 then port, big-endian) or a
/// list of <c>{ip, port, peer id}</c> dictionaries.
/// </summary>
internal static class TrackerResponse
{
    public const int MaxLength = 1024 * 1024;

    private static readonly TimeSpan s_defaultInterval = TimeSpan.FromMinutes(1);

    /// <exception cref="TrackerException">The tracker refused the announce or answered something else than a response.</exception>
    public static AnnounceResult Parse(ReadOnlyMemory<byte> body)
    {
        BencodeValue decoded;
        try
        {
            decoded = BencodeDecoder.Decode(body, maxDepth: 4, maxElements: 100_000);
        }
        catch (BencodeException exception)
        {
            throw new TrackerException($"Tracker response is not bencoded: {exception.Message}", exception);
        }

        if (decoded is not BencodeDictionary response)
        {
            throw new TrackerException("Tracker response is not a dictionary.");
        }

        if (response.GetString("failure reason") is { } failure)
        {
            throw new TrackerException($"Tracker refused the announce: {failure.Text}");
        }

        var interval = response.TryGetInteger("interval", out var seconds) && seconds is > 0 and < 86_400
            ? TimeSpan.FromSeconds(seconds)
            : s_defaultInterval;
        var peers = response["peers"] switch
        {
            BencodeString compact => ParseCompact(compact.Value.Span),
            BencodeList list => ParseList(list),
            null => [],
            _ => throw new TrackerException("Tracker response 'peers' is neither a string nor a list."),
        };
        return new AnnounceResult(peers, interval);
    }

    private static List<TrackerPeer> ParseCompact(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % 6 != 0)
        {
            throw new TrackerException($"Compact peers hold {bytes.Length} bytes, not a multiple of 6.");
        }

        var peers = new List<TrackerPeer>(bytes.Length / 6);
        for (var offset = 0; offset < bytes.Length; offset += 6)
        {
            var address = new IPAddress(bytes.Slice(offset, 4));
            var port = BinaryPrimitives.ReadUInt16BigEndian(bytes[(offset + 4)..]);
            if (port != 0)
            {
                peers.Add(new TrackerPeer(new IPEndPoint(address, port)));
            }
        }

        return peers;
    }

    private static List<TrackerPeer> ParseList(BencodeList list)
    {
        var peers = new List<TrackerPeer>(list.Items.Count);
        foreach (var item in list.Items)
        {
            if (item is not BencodeDictionary peer || !IPAddress.TryParse(peer.GetString("ip")?.Text, out var address)
                || !peer.TryGetInteger("port", out var port) || port is <= 0 or > 65535)
            {
                continue;
            }

            var id = peer.GetString("peer id") is { Value.Length: PeerId.Length } raw ? new PeerId(raw.Value.Span) : (PeerId?)null;
            peers.Add(new TrackerPeer(new IPEndPoint(address, (int)port), id));
        }

        return peers;
    }
}

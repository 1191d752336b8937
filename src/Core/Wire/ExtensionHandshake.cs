using System.Buffers;
using System.Text;
using P2PRegistry.Core.Bencoding;

namespace P2PRegistry.Core.Wire;

/// <summary>
/// The BEP 10 extension handshake: extended message id 0, a bencoded dictionary sent once after the
/// BitTorrent handshake by peers that set the extension bit.
/// </summary>
/// <remarks>
/// BEP 10: <c>{m: {name: id}, p: port, v: client, reqq: n}</c>, all optional; an id of 0 in <c>m</c>
/// disables that extension. Our own key <c>p2pregistry_block</c> announces the largest block this peer
/// serves, so two of our peers can agree on blocks larger than the standard 16 KiB; <c>p2pregistry_zone</c> names
/// the sender's zone (a topology label), so a peer prefers peers of its own zone whichever side connected;
/// <c>p2pregistry_lazy_have</c> = 1 says the sender needs no <c>have</c> for a piece it already has (a node that
/// super-seeds needs every one: it reveals the next piece when it hears of the last).
/// </remarks>
public sealed class ExtensionHandshake
{
    public const byte HandshakeExtensionId = 0;

    /// <summary>The dictionary key of our own capability: the largest block (bytes) this peer serves.</summary>
    public const string MaxBlockLengthKey = "p2pregistry_block";

    /// <summary>The dictionary key of the sender's zone (<see cref="Placement.TopologyLabel"/>).</summary>
    public const string ZoneKey = "p2pregistry_zone";

    /// <summary>The dictionary key of our own capability: 1 = send this peer no <c>have</c> for a piece it has.</summary>
    public const string LazyHaveKey = "p2pregistry_lazy_have";

    private static readonly IComparer<string> s_utf8Order = Comparer<string>.Create(
        static (x, y) => Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y)));

    /// <summary>Extension name → the id the sender wants to receive it as (1–255).</summary>
    public IReadOnlyDictionary<string, byte> Messages { get; init; } = new Dictionary<string, byte>();

    /// <summary>The sender's listen port (<c>p</c>).</summary>
    public int? Port { get; init; }

    /// <summary>The sender's client name and version (<c>v</c>), e.g. <c>aria2/1.36.0</c>.</summary>
    public string? Client { get; init; }

    /// <summary>How many outstanding requests the sender queues without dropping (<c>reqq</c>).</summary>
    public int? RequestQueueLength { get; init; }

    /// <summary>The largest block the sender serves (<c>p2pregistry_block</c>); absent for standard clients.</summary>
    public int? MaxBlockLength { get; init; }

    /// <summary>The sender's zone (<c>p2pregistry_zone</c>, a topology label); absent when unknown or for standard clients.</summary>
    public string? Zone { get; init; }

    /// <summary>
    /// The sender needs no <c>have</c> for a piece it already has (<c>p2pregistry_lazy_have</c> = 1); false for standard
    /// clients, which may count every have (libtorrent's <c>send_redundant_have</c>), and for a super-seeding node.
    /// </summary>
    public bool LazyHave { get; init; }

    /// <summary>Writes the whole extended message (length prefix, id 20, ext id 0, dictionary).</summary>
    public void WriteMessage(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var dictionary = new ArrayBufferWriter<byte>(128);
        WriteDictionary(dictionary);
        PeerMessageWriter.WriteExtended(output, HandshakeExtensionId, dictionary.WrittenSpan);
    }

    /// <summary>Writes just the bencoded dictionary (keys in raw byte order, as BEP 3 requires).</summary>
    public void WriteDictionary(IBufferWriter<byte> output)
    {
        var writer = new BencodeWriter(output);
        writer.WriteStartDictionary();
        writer.WriteString("m"u8);
        writer.WriteStartDictionary();
        foreach (var (name, id) in Messages.OrderBy(static m => m.Key, s_utf8Order))
        {
            writer.WriteString(name);
            writer.WriteInteger(id);
        }

        writer.WriteEnd();
        if (Port is { } port)
        {
            writer.WriteString("p"u8);
            writer.WriteInteger(port);
        }

        if (MaxBlockLength is { } block)
        {
            writer.WriteString(MaxBlockLengthKey);
            writer.WriteInteger(block);
        }

        if (LazyHave)
        {
            writer.WriteString(LazyHaveKey);
            writer.WriteInteger(1);
        }

        if (Zone is { Length: > 0 } zone)
        {
            writer.WriteString(ZoneKey);
            writer.WriteString(zone);
        }

        if (RequestQueueLength is { } reqq)
        {
            writer.WriteString("reqq"u8);
            writer.WriteInteger(reqq);
        }

        if (Client is { } client)
        {
            writer.WriteString("v"u8);
            writer.WriteString(client);
        }

        writer.WriteEnd();
    }

    /// <summary>
    /// Decodes the payload of an extended message with ext id 0. Keys we do not know (other clients send
    /// many: <c>yourip</c>, <c>metadata_size</c>, …) are ignored; known keys with wrong types or ranges are refused.
    /// </summary>
    /// <exception cref="PeerProtocolException">Not a valid extension handshake.</exception>
    public static ExtensionHandshake Decode(ReadOnlySequence<byte> payload)
    {
        BencodeDictionary dictionary;
        try
        {
            // Bounded by the frame limit the reader already enforced; copied once per connection.
            dictionary = BencodeDecoder.Decode(payload.ToArray(), maxDepth: 8, maxElements: 4096) as BencodeDictionary
                ?? throw PeerProtocolException.InvalidExtensionHandshake("not a dictionary");
        }
        catch (BencodeException ex)
        {
            throw new PeerProtocolException($"Invalid extension handshake: {ex.Message}", ex);
        }

        var messages = new Dictionary<string, byte>(StringComparer.Ordinal);
        switch (dictionary["m"])
        {
            case null:
                break;
            case BencodeDictionary m:
                foreach (var (key, value) in m.Entries)
                {
                    if (value is not BencodeInteger { Value: >= 0 and <= 255 } id)
                    {
                        throw PeerProtocolException.InvalidExtensionHandshake($"'m' entry '{key}' is not an id 0…255");
                    }

                    // Keys were decoded as Latin-1 (one char a byte); names are UTF-8 on the wire.
                    var name = Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(key));
                    if (id.Value != 0)
                    {
                        messages[name] = (byte)id.Value;
                    }
                }

                break;
            default:
                throw PeerProtocolException.InvalidExtensionHandshake("'m' is not a dictionary");
        }

        return new ExtensionHandshake
        {
            Messages = messages,
            Port = OptionalInteger(dictionary, "p", 1, ushort.MaxValue),
            Client = dictionary["v"] switch
            {
                null => null,
                BencodeString v => v.Text,
                _ => throw PeerProtocolException.InvalidExtensionHandshake("'v' is not a string"),
            },
            RequestQueueLength = OptionalInteger(dictionary, "reqq", 1, int.MaxValue),
            MaxBlockLength = OptionalInteger(dictionary, MaxBlockLengthKey, 1, int.MaxValue),
            // Any other value is not the flag (a later version may give it more meanings): every have, as for a standard client.
            LazyHave = dictionary[LazyHaveKey] is BencodeInteger { Value: 1 },
            Zone = dictionary[ZoneKey] switch
            {
                null => null,
                BencodeString zone when Placement.TopologyLabel.Problem(zone.Text) is null => zone.Text,
                _ => throw PeerProtocolException.InvalidExtensionHandshake($"'{ZoneKey}' is not a topology label"),
            },
        };
    }

    private static int? OptionalInteger(BencodeDictionary dictionary, string key, int min, int max) => dictionary[key] switch
    {
        null => null,
        BencodeInteger i when i.Value >= min && i.Value <= max => (int)i.Value,
        _ => throw PeerProtocolException.InvalidExtensionHandshake($"'{key}' is not an integer {min}…{max}"),
    };
}

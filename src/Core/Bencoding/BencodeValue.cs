using System.Text;

namespace P2PRegistry.Core.Bencoding;

/// <summary>A decoded bencode value. Strings keep their raw bytes; <see cref="Raw"/> is the value's exact encoding.</summary>
public abstract class BencodeValue
{
    private protected BencodeValue(ReadOnlyMemory<byte> raw) => Raw = raw;

    /// <summary>The exact bytes this value was decoded from (hash these for an info hash).</summary>
    public ReadOnlyMemory<byte> Raw { get; }
}

public sealed class BencodeInteger : BencodeValue
{
    internal BencodeInteger(long value, ReadOnlyMemory<byte> raw) : base(raw) => Value = value;

    public long Value { get; }
}

public sealed class BencodeString : BencodeValue
{
    internal BencodeString(ReadOnlyMemory<byte> value, ReadOnlyMemory<byte> raw) : base(raw) => Value = value;

    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>The bytes as UTF-8 text (invalid sequences become U+FFFD).</summary>
    public string Text => Encoding.UTF8.GetString(Value.Span);
}

public sealed class BencodeList : BencodeValue
{
    internal BencodeList(IReadOnlyList<BencodeValue> items, ReadOnlyMemory<byte> raw) : base(raw) => Items = items;

    public IReadOnlyList<BencodeValue> Items { get; }
}

public sealed class BencodeDictionary : BencodeValue
{
    private readonly Dictionary<string, BencodeValue> _entries;

    internal BencodeDictionary(Dictionary<string, BencodeValue> entries, ReadOnlyMemory<byte> raw) : base(raw) => _entries = entries;

    /// <summary>Keys decoded as Latin-1, so every byte string key maps to exactly one .NET string.</summary>
    public IReadOnlyDictionary<string, BencodeValue> Entries => _entries;

    public BencodeValue? this[string key] => _entries.GetValueOrDefault(key);

    public bool TryGetInteger(string key, out long value)
    {
        if (_entries.GetValueOrDefault(key) is BencodeInteger integer)
        {
            value = integer.Value;
            return true;
        }

        value = 0;
        return false;
    }

    public BencodeString? GetString(string key) => _entries.GetValueOrDefault(key) as BencodeString;

    public BencodeDictionary? GetDictionary(string key) => _entries.GetValueOrDefault(key) as BencodeDictionary;

    public BencodeList? GetList(string key) => _entries.GetValueOrDefault(key) as BencodeList;
}
